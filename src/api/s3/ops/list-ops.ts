/** ListObjectsV2 and ListObjects (v1). */
import type { ListResult, ObjectInfo } from '../../../storage/object-store.js';
import { storageClassOf } from '../object-headers.js';
import { canonicalUser, bucketOf, type S3Call } from '../s3-call.js';
import { invalidArgument } from '../s3-errors.js';
import { isoDate, xmlResponse } from '../s3-response.js';
import type { XmlElement } from '../s3-xml.js';
import { storedChecksum } from '../object-checksums.js';
import { displayName } from '../payload/checksums.js';

const MAX_KEYS = 1000;

export async function listObjectsV2(call: S3Call): Promise<Response> {
  const { query } = call.address;
  const encode = encoderFor(query.get('encoding-type'));
  const continuationToken = query.get('continuation-token');
  const startAfter = query.get('start-after');
  const resumeAfter = continuationToken !== undefined ? decodeContinuationToken(continuationToken) : startAfter;
  const common = commonParameters(call);
  const result = await call.store.listObjects(bucketOf(call), {
    ...common.options,
    ...(resumeAfter ? { startAfter: resumeAfter } : {}),
  });
  return xmlResponse('ListBucketResult', {
    Name: bucketOf(call),
    Prefix: encode(common.prefix),
    Delimiter: common.delimiter !== undefined ? encode(common.delimiter) : undefined,
    MaxKeys: common.maxKeys,
    KeyCount: result.objects.length + result.commonPrefixes.length,
    IsTruncated: result.isTruncated,
    ContinuationToken: continuationToken,
    NextContinuationToken:
      result.isTruncated && result.nextStartAfter !== undefined ? encodeContinuationToken(result.nextStartAfter) : undefined,
    StartAfter: startAfter !== undefined ? encode(startAfter) : undefined,
    EncodingType: query.get('encoding-type'),
    ...listEntries(result, encode, query.get('fetch-owner') === 'true' ? canonicalUser(call.account) : undefined),
  });
}

export async function listObjects(call: S3Call): Promise<Response> {
  const { query } = call.address;
  const encode = encoderFor(query.get('encoding-type'));
  const marker = query.get('marker') ?? '';
  const common = commonParameters(call);
  const result = await call.store.listObjects(bucketOf(call), {
    ...common.options,
    ...(marker !== '' ? { startAfter: marker } : {}),
  });
  return xmlResponse('ListBucketResult', {
    Name: bucketOf(call),
    Prefix: encode(common.prefix),
    Marker: encode(marker),
    // S3 sends NextMarker only with a delimiter (clients otherwise resume after the last key); it is
    // harmless, and simpler for clients, to always send it.
    NextMarker: result.isTruncated && result.nextStartAfter !== undefined ? encode(result.nextStartAfter) : undefined,
    MaxKeys: common.maxKeys,
    Delimiter: common.delimiter !== undefined ? encode(common.delimiter) : undefined,
    IsTruncated: result.isTruncated,
    EncodingType: query.get('encoding-type'),
    ...listEntries(result, encode, canonicalUser(call.account)),
  });
}

function commonParameters(call: S3Call) {
  const { query } = call.address;
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') || undefined;
  const maxKeysText = query.get('max-keys');
  let maxKeys = MAX_KEYS;
  if (maxKeysText !== undefined) {
    if (!/^\d{1,9}$/.test(maxKeysText)) {
      throw invalidArgument('Provided max-keys not an integer or within integer range', {
        ArgumentName: 'max-keys',
        ArgumentValue: maxKeysText,
      });
    }
    maxKeys = Math.min(Number(maxKeysText), MAX_KEYS);
  }
  return {
    prefix,
    delimiter,
    maxKeys,
    options: { maxKeys, ...(prefix !== '' ? { prefix } : {}), ...(delimiter !== undefined ? { delimiter } : {}) },
  };
}

/** The listed objects and common prefixes; each object with `owner` when it is given. */
function listEntries(result: ListResult, encode: (text: string) => string, owner: XmlElement | undefined): XmlElement {
  return {
    Contents: result.objects.map((object: ObjectInfo) => ({
      Key: encode(object.key),
      LastModified: isoDate(object.lastModified),
      ETag: object.etag,
      ...checksumAlgorithmElements(object),
      Size: object.size,
      ...(owner ? { Owner: owner } : {}),
      StorageClass: storageClassOf(object.headers),
    })),
    CommonPrefixes: result.commonPrefixes.map((prefix) => ({ Prefix: encode(prefix) })),
  };
}

/** ChecksumAlgorithm and ChecksumType of a listed object that keeps a checksum. */
function checksumAlgorithmElements(object: ObjectInfo): XmlElement {
  const checksum = storedChecksum(object.headers);
  if (!checksum) return {};
  return { ChecksumAlgorithm: displayName(checksum.algorithm), ...(checksum.type ? { ChecksumType: checksum.type } : {}) };
}

/**
 * `encoding-type=url`: keys are sent URL-encoded so that any character survives XML. Spaces as `+`
 * and `/` left alone, as S3 does (botocore decodes with unquote_plus; `+` itself is %2B).
 */
export function encoderFor(encodingType: string | undefined): (text: string) => string {
  if (encodingType === undefined) return (text) => text;
  if (encodingType !== 'url') {
    throw invalidArgument('Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: encodingType,
    });
  }
  return (text) => encodeURIComponent(text).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** Continuation tokens are opaque to clients: the key, common prefix or bucket name the page ended on. */
export function encodeContinuationToken(after: string): string {
  return Buffer.from(`1:${after}`, 'utf8').toString('base64url');
}

export function decodeContinuationToken(token: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!text.startsWith('1:') || text.length < 3) {
    throw invalidArgument('The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return text.slice(2);
}
