/** PutObject, GetObject, HeadObject, DeleteObject, CopyObject. */
import { noSuchKey, type ObjectInfo, type PutOptions, type WriteConditions } from '../../../storage/object-store.js';
import {
  changesTargetHeaders,
  contentHeaders,
  encryptionEcho,
  evaluateConditions,
  keptHeaders,
  objectHeaders,
  parseRangeHeader,
  refuseArchivedCopySource,
  refuseArchivedRead,
  requestConditions,
  responseOverrides,
  targetHeaders,
  userMetadata,
  type RangeRequest,
} from '../object-headers.js';
import { tagsOfHeader } from '../object-tags.js';
import { bucketOf, keyOf, type S3Call } from '../s3-call.js';
import {
  entityTooLarge,
  invalidArgument,
  invalidRequest,
  invalidUri,
  notImplemented,
  preconditionFailed,
  S3Error,
} from '../s3-errors.js';
import { emptyResponse, isoDate, streamResponse, xmlResponse, type HeaderMap } from '../s3-response.js';
import {
  CHECKSUM_ALGORITHM_HEADER,
  DEFAULT_CHECKSUM_ALGORITHM,
  checksumElements,
  checksumResponseHeaders,
  computedChecksum,
  putChecksumAlgorithm,
  requestedAlgorithm,
  storedChecksum,
  uploadedChecksum,
} from '../object-checksums.js';

/** S3's largest single PUT (larger objects need a multipart upload). */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export async function putObject(call: S3Call): Promise<Response> {
  rejectOversizedBody(call.headers, MAX_PUT_BYTES);
  const payload = call.payload();
  const checksum = uploadedChecksum(payload, putChecksumAlgorithm(call.headers, payload), 'FULL_OBJECT');
  const options: PutOptions = { ...putOptionsFrom(call.headers), bodyHeaders: checksum, conditions: writeConditionsFrom(call.headers) };
  const info = await call.store.putObject(bucketOf(call), keyOf(call), payload.body, options);
  return emptyResponse(200, { etag: info.etag, ...encryptionEcho(info.headers), ...checksumResponseHeaders(info.headers) });
}

export async function getObject(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const range = await resolveRange(call, parseRangeHeader(call.headers['range']));
  const { info, body, range: served } = await call.store.getObject(bucket, key, range);
  let verdict: 'ok' | 'not-modified';
  try {
    refuseArchivedRead(info);
    verdict = evaluateConditions(info, requestConditions(call.headers));
  } catch (e) {
    body.destroy();
    throw e;
  }
  if (verdict === 'not-modified') {
    body.destroy();
    return notModified(info);
  }
  const headers: HeaderMap = {
    ...objectHeaders(info, checksumModeEnabled(call) && !served),
    ...responseOverrides((name) => call.address.query.get(name)),
    'content-length': String(served ? served.end - served.start + 1 : info.size),
  };
  if (served) headers['content-range'] = `bytes ${served.start}-${served.end}/${info.size}`;
  return streamResponse(served ? 206 : 200, headers, body);
}

export async function headObject(call: S3Call): Promise<Response> {
  const info = await objectInfoOf(call);
  if (evaluateConditions(info, requestConditions(call.headers)) === 'not-modified') return notModified(info);
  const range = parseRangeHeader(call.headers['range']);
  const headers: HeaderMap = { ...objectHeaders(info, checksumModeEnabled(call) && !range), 'content-length': String(info.size) };
  // A range that starts past the end is refused as GetObject refuses it (HEAD shows only the 416).
  if (range && !('suffix' in range) && range.start >= info.size) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, { ActualObjectSize: String(info.size) });
  }
  const served = range && info.size > 0 ? clampRange(range, info.size) : undefined;
  if (served) {
    headers['content-length'] = String(served.end - served.start + 1);
    headers['content-range'] = `bytes ${served.start}-${served.end}/${info.size}`;
  }
  return emptyResponse(served ? 206 : 200, headers);
}

export async function deleteObject(call: S3Call): Promise<Response> {
  const conditions = writeConditionsFrom(call.headers);
  if (conditions.ifNoneMatch !== undefined) {
    throw notImplemented('If-None-Match on DeleteObject (S3 takes If-Match only)');
  }
  await call.store.deleteObject(bucketOf(call), keyOf(call), conditions);
  return emptyResponse(204);
}

/**
 * If-Match / If-None-Match of a write (PutObject, CopyObject's target, CompleteMultipartUpload,
 * DeleteObject): the store
 * checks them atomically with the write. If-None-Match takes only `*`, as S3's conditional writes do.
 */
export function writeConditionsFrom(headers: Record<string, string>): WriteConditions {
  const ifMatch = headers['if-match'];
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw notImplemented(`If-None-Match: ${ifNoneMatch} on a write (S3 takes only If-None-Match: *)`);
  }
  return { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ifNoneMatch !== undefined ? { ifNoneMatch: '*' } : {}) };
}

/**
 * Copies by streaming the source through a new put: the target gets a single-part ETag, as S3
 * gives for CopyObject. `x-amz-metadata-directive: REPLACE` takes content type, content headers
 * and metadata from this request instead of the source, `x-amz-tagging-directive: REPLACE` the
 * tags; storage class, website redirect and encryption always come from this request (S3 copies
 * none of them). The copy gets a full-object checksum of the algorithm x-amz-checksum-algorithm
 * names, else of the source's, else CRC64NVME, computed as it streams.
 */
export async function copyObject(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const source = parseCopySource(call.headers['x-amz-copy-source']!);
  const directive = copyDirective(call.headers, 'x-amz-metadata-directive', 'Unknown metadata directive.');
  const taggingDirective = copyDirective(call.headers, 'x-amz-tagging-directive', 'Unknown tagging directive.');
  const requested = putOptionsFrom(call.headers);
  if (source.bucket === bucket && source.key === key && directive === 'COPY' && !changesTargetHeaders(call.headers)) {
    throw invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const requestedChecksum = requestedAlgorithm(call.headers, CHECKSUM_ALGORITHM_HEADER);
  const { info, body } = await call.store.getObject(source.bucket, source.key);
  try {
    refuseArchivedCopySource(info);
    checkCopySourceConditions(call, info);
    const tags =
      taggingDirective === 'REPLACE'
        ? requested.tags
        : info.tagCount !== undefined
          ? await call.store.getObjectTagging(source.bucket, source.key)
          : undefined;
    const kept: PutOptions = directive === 'REPLACE' ? requested : copiedOptions(info, call.headers);
    const algorithm = requestedChecksum ?? storedChecksum(info.headers)?.algorithm ?? DEFAULT_CHECKSUM_ALGORITHM;
    const options: PutOptions = {
      ...kept,
      tags: tags ?? [],
      bodyHeaders: computedChecksum(algorithm, 'FULL_OBJECT'),
      conditions: writeConditionsFrom(call.headers),
    };
    const copied = await call.store.putObject(bucket, key, body, options);
    return xmlResponse(
      'CopyObjectResult',
      { ETag: copied.etag, LastModified: isoDate(copied.lastModified), ...checksumElements(copied.headers) },
      encryptionEcho(copied.headers),
    );
  } finally {
    body.destroy();
  }
}

/** x-amz-metadata-directive / x-amz-tagging-directive: COPY (the default) or REPLACE. */
function copyDirective(headers: Record<string, string>, name: string, message: string): 'COPY' | 'REPLACE' {
  const directive = (headers[name] ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw invalidArgument(message, { ArgumentName: name, ArgumentValue: directive });
  return directive;
}

/** `x-amz-copy-source: [/]bucket/key[?versionId=…]`, URL-encoded. */
export function parseCopySource(header: string): { bucket: string; key: string } {
  const [path = '', version] = header.split('?', 2);
  if (version !== undefined && version !== '' && version !== 'versionId=null') {
    throw invalidArgument('Invalid version id specified (doppel buckets are not versioned).', { ArgumentName: 'x-amz-copy-source' });
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw invalidUri();
  }
  const text = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) {
    throw invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: header,
    });
  }
  return { bucket: text.slice(0, slash), key: text.slice(slash + 1) };
}

/** x-amz-copy-source-if-* : any condition that does not hold fails the copy with 412. */
export function checkCopySourceConditions(call: S3Call, info: ObjectInfo): void {
  const conditions = requestConditions(call.headers, 'x-amz-copy-source-');
  if (evaluateConditions(info, conditions) === 'not-modified') {
    throw preconditionFailed(conditions.ifNoneMatch !== undefined ? 'x-amz-copy-source-If-None-Match' : 'x-amz-copy-source-If-Modified-Since');
  }
}

/** What PutObject and CreateMultipartUpload keep with the object, checked (see keptHeaders). */
export function putOptionsFrom(headers: Record<string, string>): PutOptions {
  const metadata = userMetadata(headers);
  const contentType = headers['content-type'];
  const kept = keptHeaders(headers);
  const tagging = headers['x-amz-tagging'] ?? '';
  return {
    ...(contentType !== undefined ? { contentType } : {}),
    ...(metadata ? { metadata } : {}),
    ...(Object.keys(kept).length > 0 ? { headers: kept } : {}),
    ...(tagging !== '' ? { tags: tagsOfHeader(tagging) } : {}),
  };
}

/**
 * A copy's target under x-amz-metadata-directive COPY: the source's content type, content headers
 * and metadata, with the storage class, website redirect and encryption of the copy request.
 */
function copiedOptions(source: ObjectInfo, headers: Record<string, string>): PutOptions {
  const kept = { ...contentHeaders(source.headers ?? {}), ...targetHeaders(headers) };
  return {
    ...(source.contentType !== undefined ? { contentType: source.contentType } : {}),
    ...(source.metadata ? { metadata: source.metadata } : {}),
    ...(Object.keys(kept).length > 0 ? { headers: kept } : {}),
  };
}

/** Refuses up front a body the client says is larger than `max` (its real length is counted too). */
export function rejectOversizedBody(headers: Record<string, string>, max: number): void {
  const declared = headers['x-amz-decoded-content-length'] ?? headers['content-length'];
  if (declared !== undefined && Number(declared) > max) throw entityTooLarge(max);
}

/** `x-amz-checksum-mode: ENABLED`: GetObject and HeadObject answer the object's checksum. */
function checksumModeEnabled(call: S3Call): boolean {
  return call.headers['x-amz-checksum-mode']?.trim().toUpperCase() === 'ENABLED';
}

function notModified(info: ObjectInfo): Response {
  return emptyResponse(304, { etag: info.etag, 'last-modified': new Date(info.lastModified).toUTCString() });
}

/** The addressed object's info; NoSuchKey when there is none. */
async function objectInfoOf(call: S3Call): Promise<ObjectInfo> {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const info = await call.store.headObject(bucket, key);
  if (!info) throw noSuchKey(bucket, key);
  return info;
}

/** A suffix range (`bytes=-N`) needs the object's size first. */
async function resolveRange(call: S3Call, range: RangeRequest | undefined): Promise<{ start: number; end: number } | undefined> {
  if (range === undefined || !('suffix' in range)) return range;
  const info = await objectInfoOf(call);
  if (range.suffix === 0 || info.size === 0) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, { ActualObjectSize: String(info.size) });
  }
  return { start: Math.max(0, info.size - range.suffix), end: info.size - 1 };
}

function clampRange(range: RangeRequest, size: number): { start: number; end: number } | undefined {
  if ('suffix' in range) return range.suffix > 0 ? { start: Math.max(0, size - range.suffix), end: size - 1 } : undefined;
  if (range.start >= size) return undefined;
  return { start: range.start, end: Math.min(range.end, size - 1) };
}
