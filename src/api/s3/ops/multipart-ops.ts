/**
 * CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
 * ListParts, ListMultipartUploads.
 */
import { encryptionEcho, parseCopySourceRange, refuseArchivedCopySource, storageClassOf } from '../object-headers.js';
import { ObjectStoreError, type BodyHeaders, type CompletedPart, type PartInfo, type PartOptions } from '../../../storage/object-store.js';
import {
  checkClaimedObjectChecksum,
  checksumElements,
  checksumHeaders,
  checksumResponseHeaders,
  compositeChecksum,
  computedChecksum,
  storedChecksum,
  uploadChecksum,
  uploadChecksumHeaders,
  uploadedChecksum,
  withoutUploadChecksumSettings,
} from '../object-checksums.js';
import { CHECKSUM_ALGORITHMS, CHECKSUM_HEADER_PREFIX, displayName, type ChecksumAlgorithm } from '../payload/checksums.js';
import { canonicalUser, bucketOf, keyOf, readXmlBody, type S3Call } from '../s3-call.js';
import { invalidArgument, malformedXml, S3Error } from '../s3-errors.js';
import { emptyResponse, isoDate, xmlResponse } from '../s3-response.js';
import { elementsOf, textOf } from '../s3-xml.js';
import { encoderFor } from './list-ops.js';
import { checkCopySourceConditions, parseCopySource, putOptionsFrom, rejectOversizedBody, writeConditionsFrom } from './object-ops.js';

/** S3's largest part. */
const MAX_PART_BYTES = 5 * 1024 ** 3;
const DEFAULT_MAX_PARTS = 1000;
const DEFAULT_MAX_UPLOADS = 1000;

export async function createMultipartUpload(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const checksumSettings = uploadChecksumHeaders(call.headers);
  const options = putOptionsFrom(call.headers);
  const headers = { ...options.headers, ...checksumSettings };
  const uploadId = await call.store.createMultipartUpload(bucket, key, { ...options, ...(Object.keys(headers).length > 0 ? { headers } : {}) });
  return xmlResponse('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: uploadId }, { ...encryptionEcho(options.headers), ...checksumSettings });
}

/**
 * A part keeps the checksum of its upload's algorithm: the one the client sent when it is of that
 * algorithm, computed otherwise (a checksum of another algorithm is verified, not kept).
 */
export async function uploadPart(call: S3Call): Promise<Response> {
  rejectOversizedBody(call.headers, MAX_PART_BYTES);
  const { uploadId, partNumber } = partAddress(call);
  const uploadHeaders = await call.store.uploadHeaders(bucketOf(call), keyOf(call), uploadId);
  const payload = call.payload();
  const options: PartOptions = { bodyHeaders: uploadedChecksum(payload, uploadChecksum(uploadHeaders).algorithm) };
  const part = await call.store.uploadPart(bucketOf(call), keyOf(call), uploadId, partNumber, payload.body, options);
  return emptyResponse(200, { etag: part.etag, ...encryptionEcho(uploadHeaders), ...checksumResponseHeaders(part.headers) });
}

/** A part taken from (a byte range of) an existing object; `aws s3 cp` uses it to copy large objects. */
export async function uploadPartCopy(call: S3Call): Promise<Response> {
  const { uploadId, partNumber } = partAddress(call);
  const source = parseCopySource(call.headers['x-amz-copy-source']!);
  const rangeHeader = call.headers['x-amz-copy-source-range'];
  const range = rangeHeader !== undefined ? parseCopySourceRange(rangeHeader) : undefined;
  const uploadHeaders = await call.store.uploadHeaders(bucketOf(call), keyOf(call), uploadId);
  const { info, body } = await call.store.getObject(source.bucket, source.key, range);
  try {
    // A range reaching past the object is refused, not cut short (as S3 does): the part would be shorter than asked.
    if (range && range.end >= info.size) {
      throw invalidArgument(`Range specified is not valid for source object of size: ${info.size}`, {
        ArgumentName: 'x-amz-copy-source-range',
        ArgumentValue: rangeHeader!,
      });
    }
    refuseArchivedCopySource(info);
    checkCopySourceConditions(call, info);
    const options: PartOptions = { bodyHeaders: computedChecksum(uploadChecksum(uploadHeaders).algorithm) };
    const part = await call.store.uploadPart(bucketOf(call), keyOf(call), uploadId, partNumber, body, options);
    return xmlResponse(
      'CopyPartResult',
      { ETag: part.etag, LastModified: isoDate(part.lastModified), ...checksumElements(part.headers) },
      encryptionEcho(uploadHeaders),
    );
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
    const checksums = partChecksumsListed(part);
    const completed: CompletedPart = { partNumber: Number(number), etag, ...(checksums ? { checksums } : {}) };
    return completed;
  });
  const conditions = writeConditionsFrom(call.headers);
  const uploadHeaders = await openUploadHeaders(call, uploadId);
  let info;
  if (uploadHeaders === undefined) {
    // No open upload: the store answers a repeat of a completion it just made, or NoSuchUpload.
    info = await call.store.completeMultipartUpload(bucket, key, uploadId, parts, { conditions });
  } else {
    // The stored parts matter only for a composite checksum and for checksums the request lists:
    // a full-object checksum is computed from the assembled bytes, so no part listing is read.
    const partsNeeded = uploadChecksum(uploadHeaders).type === 'COMPOSITE' || parts.some((part) => part.checksums);
    const stored = new Map(partsNeeded ? (await allParts(call, uploadId)).map((part) => [part.partNumber, part]) : []);
    for (const part of parts) checkListedChecksums(part.partNumber, part.checksums, stored.get(part.partNumber));
    const options = await completionChecksum(call, uploadHeaders, parts.map((part) => stored.get(part.partNumber)));
    info = await call.store.completeMultipartUpload(bucket, key, uploadId, parts, { ...options, conditions });
  }
  return xmlResponse(
    'CompleteMultipartUploadResult',
    {
      Location: `${call.origin}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`,
      Bucket: bucket,
      Key: key,
      ETag: info.etag,
      ...checksumElements(info.headers),
    },
    { ...encryptionEcho(info.headers), ...checksumResponseHeaders(info.headers) },
  );
}
/** The headers of the open upload, or undefined when it is not open (completed or never begun). */
async function openUploadHeaders(call: S3Call, uploadId: string): Promise<Record<string, string> | undefined> {
  try {
    return await call.store.uploadHeaders(bucketOf(call), keyOf(call), uploadId);
  } catch (e) {
    if (e instanceof ObjectStoreError && e.code === 'NoSuchUpload') return undefined;
    throw e;
  }
}

/** Every part of an open upload, page by page. */
async function allParts(call: S3Call, uploadId: string): Promise<PartInfo[]> {
  const parts: PartInfo[] = [];
  for (let marker = 0; ; ) {
    const page = await call.store.listParts(bucketOf(call), keyOf(call), uploadId, { partNumberMarker: marker });
    for (const part of page.parts) parts.push(part);
    if (!page.isTruncated) return parts;
    marker = page.nextPartNumberMarker;
  }
}

/**
 * The <ChecksumCRC32> ... elements of a <Part> of CompleteMultipartUpload, as stored headers
 * (`x-amz-checksum-<algorithm>` → value); undefined when there are none.
 */
function partChecksumsListed(part: Record<string, unknown>): Record<string, string> | undefined {
  const checksums: Record<string, string> = {};
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = textOf(part, `Checksum${displayName(algorithm)}`)?.trim();
    if (value !== undefined) checksums[`${CHECKSUM_HEADER_PREFIX}${algorithm}`] = value;
  }
  return Object.keys(checksums).length > 0 ? checksums : undefined;
}

/** A checksum listed for a part must be the one the part keeps (InvalidPart otherwise, as in S3). */
function checkListedChecksums(partNumber: number, listed: Record<string, string> | undefined, stored: PartInfo | undefined): void {
  if (stored === undefined) return; // the store answers InvalidPart for a part never uploaded
  const kept = storedChecksum(stored.headers);
  for (const [header, value] of Object.entries(listed ?? {})) {
    const algorithm = header.slice(CHECKSUM_HEADER_PREFIX.length) as ChecksumAlgorithm;
    if (kept?.algorithm === algorithm && kept.value === value) continue;
    throw new S3Error(
      'InvalidPart',
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      400,
      { PartNumber: String(partNumber), Detail: `the Checksum${displayName(algorithm)} listed is not the part's` },
    );
  }
}

/**
 * The checksum the completed object gets: COMPOSITE, the checksum of the listed parts' checksums;
 * FULL_OBJECT, computed over the assembled bytes as the store writes them. Either is checked
 * against the x-amz-checksum-* of the request, if it names one (BadDigest).
 */
async function completionChecksum(
  call: S3Call,
  uploadHeaders: Record<string, string>,
  parts: Array<PartInfo | undefined>,
): Promise<PartOptions> {
  const { algorithm, type } = uploadChecksum(uploadHeaders);
  const headers = withoutUploadChecksumSettings(uploadHeaders);
  if (type === 'FULL_OBJECT') {
    const computing = computedChecksum(algorithm, type);
    const bodyHeaders: BodyHeaders = {
      update: (chunk) => computing.update(chunk),
      headers: async () => {
        const computed = await computing.headers();
        checkClaimedObjectChecksum(call.headers, type, storedChecksum(computed)!);
        return computed;
      },
    };
    return { headers, bodyHeaders };
  }
  const partValues = parts.map((part) => storedChecksum(part?.headers));
  // A part missing is the store's InvalidPart; a part without a checksum of the algorithm can only
  // come from an external service that keeps none: the object then has none either.
  if (!partValues.every((value) => value?.algorithm === algorithm)) return { headers };
  const kept = { algorithm, value: await compositeChecksum(algorithm, partValues.map((value) => value!.value)), type };
  checkClaimedObjectChecksum(call.headers, type, kept);
  return { headers: { ...headers, ...checksumHeaders(kept) } };
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
  const uploadHeaders = await call.store.uploadHeaders(bucket, key, uploadId);
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
      ...checksumElements(part.headers),
    })),
    Initiator: canonicalUser(call.account),
    Owner: canonicalUser(call.account),
    StorageClass: storageClassOf(uploadHeaders),
    ...uploadChecksumElements(uploadHeaders),
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
      StorageClass: storageClassOf(upload.headers),
      Initiated: isoDate(upload.initiated),
      ...uploadChecksumElements(upload.headers ?? {}),
    })),
    CommonPrefixes: result.commonPrefixes.map((commonPrefix) => ({ Prefix: encode(commonPrefix) })),
    EncodingType: query.get('encoding-type'),
  });
}

/** An upload's checksum algorithm and type, as ListParts and ListMultipartUploads list them. */
function uploadChecksumElements(uploadHeaders: Record<string, string>) {
  const { algorithm, type } = uploadChecksum(uploadHeaders);
  return { ChecksumAlgorithm: displayName(algorithm), ChecksumType: type };
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
