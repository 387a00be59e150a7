/**
 * HTTP semantics around objects: response headers, user metadata, conditional requests and ranges.
 */
import type { ObjectInfo } from '../../storage/object-store.js';
import { DEFAULT_CONTENT_TYPE } from './s3-call.js';
import { invalidArgument, metadataTooLarge, preconditionFailed } from './s3-errors.js';
import { httpDate, type HeaderMap } from './s3-response.js';
import { CHECKSUM_HEADER_PREFIX } from './payload/checksums.js';

const META_PREFIX = 'x-amz-meta-';
/** S3's limit on user metadata (names and values together). */
const MAX_METADATA_BYTES = 2048;

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
  for (const [name, value] of Object.entries(info.metadata ?? {})) headers[`${META_PREFIX}${name}`] = value;
  return headers;
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
