/**
 * CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
 * ListParts, ListMultipartUploads.
 */
import { parseCopySourceRange } from '../object-headers.js';
import { canonicalUser, bucketOf, keyOf, readXmlBody, type S3Call } from '../s3-call.js';
import { invalidArgument, malformedXml } from '../s3-errors.js';
import { emptyResponse, isoDate, xmlResponse } from '../s3-response.js';
import { elementsOf, textOf } from '../s3-xml.js';
import { encoderFor } from './list-ops.js';
import {
  checkCopySourceConditions,
  checksumHeaders,
  parseCopySource,
  putOptionsFrom,
  rejectOversizedBody,
  writeConditionsFrom,
} from './object-ops.js';

/** S3's largest part. */
const MAX_PART_BYTES = 5 * 1024 ** 3;
const DEFAULT_MAX_PARTS = 1000;
const DEFAULT_MAX_UPLOADS = 1000;

export async function createMultipartUpload(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const uploadId = await call.store.createMultipartUpload(bucket, key, putOptionsFrom(call.headers));
  return xmlResponse('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: uploadId });
}

export async function uploadPart(call: S3Call): Promise<Response> {
  rejectOversizedBody(call.headers, MAX_PART_BYTES);
  const { uploadId, partNumber } = partAddress(call);
  const payload = call.payload();
  const part = await call.store.uploadPart(bucketOf(call), keyOf(call), uploadId, partNumber, payload.body);
  return emptyResponse(200, { etag: part.etag, ...checksumHeaders(payload.verifiedChecksums) });
}

/** A part taken from (a byte range of) an existing object; `aws s3 cp` uses it to copy large objects. */
export async function uploadPartCopy(call: S3Call): Promise<Response> {
  const { uploadId, partNumber } = partAddress(call);
  const source = parseCopySource(call.headers['x-amz-copy-source']!);
  const rangeHeader = call.headers['x-amz-copy-source-range'];
  const range = rangeHeader !== undefined ? parseCopySourceRange(rangeHeader) : undefined;
  const { info, body } = await call.store.getObject(source.bucket, source.key, range);
  try {
    checkCopySourceConditions(call, info);
    const part = await call.store.uploadPart(bucketOf(call), keyOf(call), uploadId, partNumber, body);
    return xmlResponse('CopyPartResult', { ETag: part.etag, LastModified: isoDate(Date.now()) });
  } finally {
    body.destroy();
  }
}

export async function completeMultipartUpload(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const uploadId = call.address.query.get('uploadId') ?? '';
  const document = await readXmlBody(call, 'CompleteMultipartUpload', ['Part']);
  const parts = elementsOf(document, 'Part').map((part) => {
    const number = textOf(part, 'PartNumber')?.trim() ?? '';
    const etag = textOf(part, 'ETag')?.trim();
    if (!/^\d{1,5}$/.test(number) || etag === undefined) throw malformedXml('every <Part> needs a <PartNumber> and an <ETag>');
    return { partNumber: Number(number), etag };
  });
  const info = await call.store.completeMultipartUpload(bucket, key, uploadId, parts, writeConditionsFrom(call.headers));
  return xmlResponse('CompleteMultipartUploadResult', {
    Location: `${call.origin}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`,
    Bucket: bucket,
    Key: key,
    ETag: info.etag,
  });
}

export async function abortMultipartUpload(call: S3Call): Promise<Response> {
  await call.store.abortMultipartUpload(bucketOf(call), keyOf(call), call.address.query.get('uploadId') ?? '');
  return emptyResponse(204);
}

export async function listParts(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const { query } = call.address;
  const uploadId = query.get('uploadId') ?? '';
  const maxParts = Math.min(integerParameter(call, 'max-parts') ?? DEFAULT_MAX_PARTS, DEFAULT_MAX_PARTS);
  const marker = integerParameter(call, 'part-number-marker') ?? 0;
  const page = await call.store.listParts(bucket, key, uploadId, { partNumberMarker: marker, maxParts });
  return xmlResponse('ListPartsResult', {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.nextPartNumberMarker,
    MaxParts: maxParts,
    IsTruncated: page.isTruncated,
    Part: page.parts.map((part) => ({
      PartNumber: part.partNumber,
      LastModified: isoDate(part.lastModified),
      ETag: part.etag,
      Size: part.size,
    })),
    Initiator: canonicalUser(call.account),
    Owner: canonicalUser(call.account),
    StorageClass: 'STANDARD',
  });
}

export async function listMultipartUploads(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  const { query } = call.address;
  const encode = encoderFor(query.get('encoding-type'));
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') || undefined;
  const keyMarker = query.get('key-marker') ?? '';
  const uploadIdMarker = query.get('upload-id-marker') ?? '';
  const maxUploads = Math.min(integerParameter(call, 'max-uploads') ?? DEFAULT_MAX_UPLOADS, DEFAULT_MAX_UPLOADS);
  const result = await call.store.listMultipartUploads(bucket, {
    maxUploads,
    ...(prefix !== '' ? { prefix } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
    ...(keyMarker !== '' ? { keyMarker } : {}),
    ...(uploadIdMarker !== '' ? { uploadIdMarker } : {}),
  });
  return xmlResponse('ListMultipartUploadsResult', {
    Bucket: bucket,
    KeyMarker: encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: result.nextKeyMarker !== undefined ? encode(result.nextKeyMarker) : undefined,
    NextUploadIdMarker: result.nextUploadIdMarker,
    Delimiter: delimiter !== undefined ? encode(delimiter) : undefined,
    Prefix: encode(prefix),
    MaxUploads: maxUploads,
    IsTruncated: result.isTruncated,
    Upload: result.uploads.map((upload) => ({
      Key: encode(upload.key),
      UploadId: upload.uploadId,
      Initiator: canonicalUser(call.account),
      Owner: canonicalUser(call.account),
      StorageClass: 'STANDARD',
      Initiated: isoDate(upload.initiated),
    })),
    CommonPrefixes: result.commonPrefixes.map((commonPrefix) => ({ Prefix: encode(commonPrefix) })),
    EncodingType: query.get('encoding-type'),
  });
}

function partAddress(call: S3Call): { uploadId: string; partNumber: number } {
  const uploadId = call.address.query.get('uploadId') ?? '';
  const text = call.address.query.get('partNumber');
  const partNumber = text !== undefined && /^\d{1,5}$/.test(text) ? Number(text) : undefined;
  if (partNumber === undefined || partNumber < 1 || partNumber > 10_000) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: text ?? '',
    });
  }
  return { uploadId, partNumber };
}

const INT32_MAX = 2_147_483_647;

/** A non-negative integer query parameter, refused with S3's two messages (negative; not an int32). */
function integerParameter(call: S3Call, name: string): number | undefined {
  const text = call.address.query.get(name);
  if (text === undefined) return undefined;
  const value = /^-?\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(Math.abs(value) <= INT32_MAX)) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: text });
  }
  if (value < 0) {
    throw invalidArgument(`Argument ${name} must be an integer between 0 and ${INT32_MAX}`, { ArgumentName: name, ArgumentValue: text });
  }
  return value;
}
