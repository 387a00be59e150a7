/**
 * Which bucket, key and operation a request addresses.
 *
 * Path style: `/bucket/key…`. Virtual-hosted style: Host `<bucket>.localhost[:port]` or
 * `<bucket>.s3.localhost[:port]`, path `/key…`. The key is everything after the bucket's slash,
 * percent-decoded once (so `a%2Fb` and `a/b` name the same key, and `..` is just two characters).
 */
import { parseRawQuery, type QueryPairs } from '../auth/raw-query.js';
import { invalidArgument, invalidUri, methodNotAllowed, notImplemented } from './s3-errors.js';

export interface S3Address {
  bucket?: string;
  key?: string;
  /** Raw path and query as received (what SigV4 signed). */
  rawPath: string;
  rawQuery: string;
  query: QueryParams;
  virtualHosted: boolean;
}

export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'HeadBucket'
  | 'GetBucketLocation'
  | 'ListObjectsV2'
  | 'ListObjects'
  | 'DeleteObjects'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ListMultipartUploads';

/** Decoded query parameters; names are case-sensitive, as in S3. */
export class QueryParams {
  constructor(private readonly pairs: QueryPairs) {}
  get(name: string): string | undefined {
    return this.pairs.find(([key]) => key === name)?.[1];
  }
  has(name: string): boolean {
    return this.pairs.some(([key]) => key === name);
  }
  names(): string[] {
    return this.pairs.map(([name]) => name);
  }
}

const VIRTUAL_HOST = /^([a-z0-9][a-z0-9.-]*?)\.(?:s3\.)?localhost$/;

export function parseAddress(rawUrl: string, host: string | undefined): S3Address {
  let target = rawUrl;
  // An absolute-form request target (sent through a proxy): keep only the path and query.
  const absolute = /^https?:\/\/[^/?]*/i.exec(target);
  if (absolute) target = target.slice(absolute[0].length) || '/';
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const rawQuery = q >= 0 ? target.slice(q + 1) : '';
  if (!rawPath.startsWith('/')) throw invalidUri();
  const query = new QueryParams(parseRawQuery(rawQuery));

  const hostName = (host ?? '').toLowerCase().replace(/:\d+$/, '');
  const virtual = VIRTUAL_HOST.exec(hostName);
  if (virtual && virtual[1] !== 's3') {
    const key = rawPath.slice(1);
    return { bucket: virtual[1], ...(key !== '' ? { key: decodePathPart(key) } : {}), rawPath, rawQuery, query, virtualHosted: true };
  }
  const rest = rawPath.slice(1);
  if (rest === '') return { rawPath, rawQuery, query, virtualHosted: false };
  const slash = rest.indexOf('/');
  const bucket = decodePathPart(slash >= 0 ? rest.slice(0, slash) : rest);
  const key = slash >= 0 ? rest.slice(slash + 1) : '';
  return { bucket, ...(key !== '' ? { key: decodePathPart(key) } : {}), rawPath, rawQuery, query, virtualHosted: false };
}

function decodePathPart(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidUri(); // a malformed escape or bytes that are not UTF-8
  }
}

/**
 * Query parameters that do not select an operation: listing and response-override parameters, the
 * JS SDK's `x-id`, and presigned-URL authentication. Any other parameter names a sub-resource
 * (`?acl`, `?tagging`, ...) and, unless handled below, an operation doppel does not implement.
 */
const PLAIN_PARAMETERS = new Set([
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'continuation-token',
  'start-after',
  'fetch-owner',
  'encoding-type',
  'list-type',
  'max-parts',
  'part-number-marker',
  'max-uploads',
  'key-marker',
  'upload-id-marker',
  'max-buckets',
  'bucket-region',
  'x-id',
  'versionId',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
]);
const HANDLED_SUBRESOURCES = new Set(['uploads', 'uploadId', 'partNumber', 'delete', 'location', 'tagging']);

export function resolveOperation(method: string, address: S3Address, headers: Record<string, string>): S3Operation {
  const { bucket, key, query } = address;
  const subresources = query.names().filter((name) => !PLAIN_PARAMETERS.has(name) && !name.startsWith('X-Amz-'));
  const unsupported = subresources.find((name) => !HANDLED_SUBRESOURCES.has(name));
  if (unsupported !== undefined) throw notImplemented(`the '${unsupported}' sub-resource (${method})`);
  const version = query.get('versionId');
  if (version !== undefined && version !== 'null') {
    throw invalidArgument('Invalid version id specified (doppel buckets are not versioned).', { ArgumentName: 'versionId' });
  }
  const has = (name: string) => query.has(name);
  const copy = headers['x-amz-copy-source'] !== undefined;
  const resource = `/${bucket ?? ''}${key !== undefined ? `/${key}` : ''}`;
  const unsupportedHere = (): never => {
    if (subresources.length > 0) throw notImplemented(`${method} with '${subresources.join("', '")}'`);
    throw methodNotAllowed(method, resource);
  };

  if (bucket === undefined) {
    if (method === 'GET' && subresources.length === 0) return 'ListBuckets';
    return unsupportedHere();
  }
  if (key === undefined) {
    switch (method) {
      case 'GET':
        if (has('location')) return 'GetBucketLocation';
        if (has('uploads')) return 'ListMultipartUploads';
        if (subresources.length > 0) return unsupportedHere();
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'PUT':
        if (subresources.length === 0) return 'CreateBucket';
        return unsupportedHere();
      case 'DELETE':
        if (subresources.length === 0) return 'DeleteBucket';
        return unsupportedHere();
      case 'HEAD':
        if (subresources.length === 0) return 'HeadBucket';
        return unsupportedHere();
      case 'POST':
        if (has('delete')) return 'DeleteObjects';
        return unsupportedHere();
      default:
        return unsupportedHere();
    }
  }
  switch (method) {
    case 'GET':
      if (has('uploadId')) return 'ListParts';
      if (has('tagging')) return 'GetObjectTagging';
      if (has('partNumber')) throw notImplemented('GetObject by part number');
      if (subresources.length === 0) return 'GetObject';
      return unsupportedHere();
    case 'HEAD':
      if (has('partNumber')) throw notImplemented('HeadObject by part number');
      if (subresources.length === 0) return 'HeadObject';
      return unsupportedHere();
    case 'PUT':
      if (has('uploadId') && has('partNumber')) return copy ? 'UploadPartCopy' : 'UploadPart';
      if (has('tagging')) return 'PutObjectTagging';
      if (subresources.length === 0) return copy ? 'CopyObject' : 'PutObject';
      return unsupportedHere();
    case 'DELETE':
      if (has('uploadId')) return 'AbortMultipartUpload';
      if (has('tagging')) return 'DeleteObjectTagging';
      if (subresources.length === 0) return 'DeleteObject';
      return unsupportedHere();
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      return unsupportedHere();
    default:
      return unsupportedHere();
  }
}
