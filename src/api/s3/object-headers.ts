/**
 * HTTP semantics around objects: response headers, user metadata, the headers an object keeps
 * (content headers, storage class, website redirect, SSE) and what is refused, conditional requests
 * and ranges.
 */
import type { ObjectInfo } from '../../storage/object-store.js';
import { DEFAULT_CONTENT_TYPE } from './s3-call.js';
import { invalidArgument, invalidRequest, metadataTooLarge, notImplemented, preconditionFailed, S3Error } from './s3-errors.js';
import { httpDate, type HeaderMap } from './s3-response.js';
import { CHECKSUM_HEADER_PREFIX } from './payload/checksums.js';

const META_PREFIX = 'x-amz-meta-';
/** S3's limit on user metadata (names and values together). */
const MAX_METADATA_BYTES = 2048;

/** Content headers S3 keeps with an object; CopyObject copies them unless the metadata is replaced. */
const CONTENT_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const;
const STORAGE_CLASS = 'x-amz-storage-class';
const WEBSITE_REDIRECT = 'x-amz-website-redirect-location';
const SSE = 'x-amz-server-side-encryption';
/** SSE headers S3 keeps with an object and echoes; the KMS ones only with SSE-KMS. */
const KMS_HEADERS = [`${SSE}-aws-kms-key-id`, `${SSE}-bucket-key-enabled`, `${SSE}-context`] as const;
const SSE_HEADERS = [SSE, ...KMS_HEADERS] as const;
/**
 * The storage classes a general-purpose S3 bucket takes (S3's StorageClass enum without OUTPOSTS,
 * SNOW, EXPRESS_ONEZONE and the FSX classes, which belong to other kinds of storage). STANDARD is
 * the default, and S3 does not name it on GetObject / HeadObject.
 */
const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
]);
/** Classes whose objects must be restored (RestoreObject) before they can be read or copied. */
const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);
const ENCRYPTIONS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const MAX_WEBSITE_REDIRECT_BYTES = 2048;
const OBJECT_LOCK_HEADERS = ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold'];

/**
 * Headers describing a stored object (GetObject, HeadObject). Its checksum only `withChecksum`:
 * S3 answers it only to `x-amz-checksum-mode: ENABLED`, and not for a range.
 */
export function objectHeaders(info: ObjectInfo, withChecksum = false): HeaderMap {
  const headers: HeaderMap = {
    etag: info.etag,
    'last-modified': httpDate(info.lastModified),
    'content-type': info.contentType ?? DEFAULT_CONTENT_TYPE,
    'accept-ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(info.headers ?? {})) {
    if (withChecksum || !name.startsWith(CHECKSUM_HEADER_PREFIX)) headers[name] = value;
  }
  if (info.tagCount !== undefined) headers['x-amz-tagging-count'] = String(info.tagCount);
  for (const [name, value] of Object.entries(info.metadata ?? {})) headers[`${META_PREFIX}${name}`] = value;
  return headers;
}

/**
 * What an object keeps besides its content type and user metadata (PutOptions.headers): content
 * headers, storage class, website redirect and SSE headers, from a PutObject or
 * CreateMultipartUpload request. Refuses what doppel cannot honour (see `refuseUnsupportedHeaders`).
 */
export function keptHeaders(headers: Record<string, string>): Record<string, string> {
  return { ...contentHeaders(headers), ...targetHeaders(headers) };
}

/**
 * The content headers of a request or of a stored object (what x-amz-metadata-directive governs).
 * `aws-chunked` is the framing of the request body, not an encoding of the object: S3 stores the
 * object without it (and without Content-Encoding when nothing else is left).
 */
export function contentHeaders(headers: Record<string, string>): Record<string, string> {
  const picked = pick(headers, CONTENT_HEADERS);
  const encoding = picked['content-encoding'];
  if (encoding !== undefined) {
    const kept = encoding
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '' && part.toLowerCase() !== 'aws-chunked');
    if (kept.length > 0) picked['content-encoding'] = kept.join(',');
    else delete picked['content-encoding'];
  }
  return picked;
}

/**
 * The headers a write takes from its own request even when copying: CopyObject copies neither the
 * storage class (default STANDARD), the website redirect nor the encryption of its source.
 */
export function targetHeaders(headers: Record<string, string>): Record<string, string> {
  refuseUnsupportedHeaders(headers);
  const kept: Record<string, string> = {};
  const storageClass = headers[STORAGE_CLASS];
  if (storageClass !== undefined) {
    if (!STORAGE_CLASSES.has(storageClass)) {
      throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid', 400, { StorageClassRequested: storageClass });
    }
    if (storageClass !== 'STANDARD') kept[STORAGE_CLASS] = storageClass;
  }
  const redirect = headers[WEBSITE_REDIRECT];
  if (redirect !== undefined) {
    if (!/^(\/|https?:\/\/)/.test(redirect) || Buffer.byteLength(redirect) > MAX_WEBSITE_REDIRECT_BYTES) {
      throw invalidArgument("The website redirect location must have a prefix of 'http://' or 'https://' or '/' and be at most 2 KB.", {
        ArgumentName: WEBSITE_REDIRECT,
        ArgumentValue: redirect,
      });
    }
    kept[WEBSITE_REDIRECT] = redirect;
  }
  return { ...kept, ...encryptionHeaders(headers) };
}

/** Whether a copy onto its own source changes something, which S3 requires of an in-place copy. */
export function changesTargetHeaders(headers: Record<string, string>): boolean {
  return [STORAGE_CLASS, WEBSITE_REDIRECT, ...SSE_HEADERS].some((name) => headers[name] !== undefined);
}

/**
 * The SSE headers of a request, checked as S3 checks them. They are kept and echoed for clients
 * that send them; the bytes are not encrypted by doppel (see README, S3 section).
 */
function encryptionHeaders(headers: Record<string, string>): Record<string, string> {
  const encryption = headers[SSE];
  if (encryption !== undefined && !ENCRYPTIONS.has(encryption)) {
    throw invalidArgument('The encryption method specified is not supported', { ArgumentName: SSE, ArgumentValue: encryption });
  }
  const kms = pick(headers, KMS_HEADERS);
  const kmsHeader = Object.keys(kms)[0];
  if (kmsHeader !== undefined && !encryption?.startsWith('aws:kms')) {
    throw invalidArgument(`Server Side Encryption with AWS KMS managed key requires HTTP header ${SSE} : aws:kms`, {
      ArgumentName: kmsHeader,
      ArgumentValue: kms[kmsHeader]!,
    });
  }
  const bucketKey = kms[`${SSE}-bucket-key-enabled`];
  if (bucketKey !== undefined && bucketKey !== 'true' && bucketKey !== 'false') {
    throw invalidArgument('The x-amz-server-side-encryption-bucket-key-enabled header must be true or false', {
      ArgumentName: `${SSE}-bucket-key-enabled`,
      ArgumentValue: bucketKey,
    });
  }
  return encryption === undefined ? {} : { [SSE]: encryption, ...kms };
}

/** The SSE headers kept with an object or upload, which S3 echoes on writes. */
export function encryptionEcho(headers: Record<string, string> | undefined): HeaderMap {
  return pick(headers ?? {}, SSE_HEADERS);
}

/**
 * Headers doppel refuses rather than drop: customer-provided keys (SSE-C: doppel would have to
 * demand the key on every read) and object lock, which needs a bucket created with object lock,
 * which doppel does not offer.
 */
function refuseUnsupportedHeaders(headers: Record<string, string>): void {
  const customerKey = Object.keys(headers).find((name) => name.startsWith(`${SSE}-customer-`));
  if (customerKey !== undefined) throw notImplemented(`server-side encryption with customer-provided keys (${customerKey})`);
  const lockHeader = OBJECT_LOCK_HEADERS.find((name) => headers[name] !== undefined);
  if (lockHeader !== undefined) {
    throw invalidRequest('Bucket is missing Object Lock Configuration', { ArgumentName: lockHeader, ArgumentValue: headers[lockHeader]! });
  }
}

/** The storage class S3 lists an object or upload with. */
export function storageClassOf(headers: Record<string, string> | undefined): string {
  return headers?.[STORAGE_CLASS] ?? 'STANDARD';
}

/** GetObject of a GLACIER or DEEP_ARCHIVE object, which would first need a RestoreObject. */
export function refuseArchivedRead(info: ObjectInfo): void {
  const storageClass = storageClassOf(info.headers);
  if (ARCHIVE_CLASSES.has(storageClass)) {
    throw new S3Error('InvalidObjectState', "The operation is not valid for the object's storage class", 403, { StorageClass: storageClass });
  }
}

/** An archived copy source (CopyObject, UploadPartCopy): CopyObject's documented error for it. */
export function refuseArchivedCopySource(info: ObjectInfo): void {
  if (ARCHIVE_CLASSES.has(storageClassOf(info.headers))) {
    throw new S3Error(
      'ObjectNotInActiveTierError',
      'The source object of the COPY action is not in the active tier and is only stored in Amazon S3 Glacier.',
      403,
    );
  }
}

function pick(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) if (headers[name] !== undefined) picked[name] = headers[name]!;
  return picked;
}

/** `response-content-type` and friends: presigned URLs choose what GetObject answers with. */
export function responseOverrides(get: (name: string) => string | undefined): HeaderMap {
  const overrides: HeaderMap = {};
  for (const header of ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding']) {
    const value = get(`response-${header}`);
    if (value !== undefined) overrides[header] = value;
  }
  return overrides;
}

/** x-amz-meta-* request headers → metadata (names lower-cased, without the prefix). */
export function userMetadata(headers: Record<string, string>): Record<string, string> | undefined {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(META_PREFIX) || name.length === META_PREFIX.length) continue;
    const short = name.slice(META_PREFIX.length);
    metadata[short] = value;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(value);
  }
  if (bytes > MAX_METADATA_BYTES) throw metadataTooLarge(MAX_METADATA_BYTES);
  return Object.keys(metadata).length > 0 ? metadata : undefined;
}

export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

export function requestConditions(headers: Record<string, string>, prefix = ''): Conditions {
  const get = (name: string) => headers[`${prefix}${name}`];
  return {
    ...(get('if-match') !== undefined ? { ifMatch: get('if-match') } : {}),
    ...(get('if-none-match') !== undefined ? { ifNoneMatch: get('if-none-match') } : {}),
    ...(get('if-modified-since') !== undefined ? { ifModifiedSince: get('if-modified-since') } : {}),
    ...(get('if-unmodified-since') !== undefined ? { ifUnmodifiedSince: get('if-unmodified-since') } : {}),
  };
}

/**
 * RFC 7232 evaluation as S3 does it: 'ok', 'not-modified' (304 for GET/HEAD) or a thrown 412.
 * If-Match wins over If-Unmodified-Since, If-None-Match over If-Modified-Since.
 */
export function evaluateConditions(info: ObjectInfo, conditions: Conditions): 'ok' | 'not-modified' {
  const seconds = Math.floor(info.lastModified / 1000);
  if (conditions.ifMatch !== undefined) {
    if (!etagListMatches(conditions.ifMatch, info.etag)) throw preconditionFailed('If-Match');
  } else if (conditions.ifUnmodifiedSince !== undefined) {
    const since = parseHttpDate(conditions.ifUnmodifiedSince);
    if (since !== undefined && seconds > since) throw preconditionFailed('If-Unmodified-Since');
  }
  if (conditions.ifNoneMatch !== undefined) {
    if (etagListMatches(conditions.ifNoneMatch, info.etag)) return 'not-modified';
  } else if (conditions.ifModifiedSince !== undefined) {
    const since = parseHttpDate(conditions.ifModifiedSince);
    if (since !== undefined && seconds <= since) return 'not-modified';
  }
  return 'ok';
}

function etagListMatches(list: string, etag: string): boolean {
  const bare = (tag: string) => tag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  return list.split(',').some((candidate) => candidate.trim() === '*' || bare(candidate) === bare(etag));
}

/** Whole seconds since the epoch; undefined for a date that does not parse (ignored, as in HTTP). */
function parseHttpDate(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

export type RangeRequest = { start: number; end: number } | { suffix: number };

/**
 * A single `bytes=` range. Anything else (several ranges, other units, nonsense) is ignored and the
 * whole object served, as HTTP allows; S3 does not serve multiple ranges either.
 */
export function parseRangeHeader(value: string | undefined): RangeRequest | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') return { suffix: Number(last) };
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  if (end < start) return undefined;
  return { start, end };
}

/** `bytes=first-last` of x-amz-copy-source-range (UploadPartCopy), which must be explicit. */
export function parseCopySourceRange(value: string): { start: number; end: number } {
  const match = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!match || Number(match[2]) < Number(match[1])) {
    throw invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', {
      ArgumentName: 'x-amz-copy-source-range',
      ArgumentValue: value,
    });
  }
  return { start: Number(match[1]), end: Number(match[2]) };
}
