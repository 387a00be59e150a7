import { ObjectStoreError, noSuchBucket, noSuchKey } from '../object-store.js';

/** What a request was about, so the error can name it. */
export interface S3RequestTarget {
  operation: string;
  bucket?: string;
  key?: string;
}

/** Node's codes for a service that cannot be reached or dropped the connection. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

/** Codes the SDK uses when a response carried no error body (HEAD requests, bare 5xx). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BadRequest',
  403: 'AccessDenied',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  412: 'PreconditionFailed',
  416: 'InvalidRange',
  500: 'InternalError',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
};

/**
 * Turns whatever the SDK threw into an ObjectStoreError carrying S3's code and HTTP status, so
 * callers (and doppel's own S3 endpoint) handle the external store exactly like the embedded one.
 */
export function toObjectStoreError(err: unknown, endpoint: string, target: S3RequestTarget): ObjectStoreError {
  if (err instanceof ObjectStoreError) return err;
  const e = (err ?? {}) as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const where = describe(target);

  if (status === undefined || status === 0) {
    if (isConnectionFailure(e)) {
      return withCause(
        new ObjectStoreError(
          'ServiceUnavailable',
          `cannot reach the S3 endpoint ${endpoint} (DOPPEL_S3_ENDPOINT) for ${where}: ${e.message ?? String(err)}`,
          503,
        ),
        err,
      );
    }
    return withCause(
      new ObjectStoreError('InternalError', `S3 endpoint ${endpoint} failed ${where}: ${e.message ?? String(err)}`, 500),
      err,
    );
  }

  const code = s3Code(e.name, status);
  if (code === 'NoSuchBucket' && target.bucket !== undefined) return withCause(noSuchBucket(target.bucket), err);
  if (code === 'NoSuchKey' && target.bucket !== undefined && target.key !== undefined) {
    return withCause(noSuchKey(target.bucket, target.key), err);
  }
  const detail = e.message && e.message !== 'UnknownError' && e.message !== code ? e.message : describeStatus(status);
  return withCause(new ObjectStoreError(code, `${detail} (${where} at ${endpoint})`, status), err);
}

/** The SDK names a modelled or parsed error after S3's <Code>; generic names mean it had none. */
function s3Code(name: string | undefined, status: number): string {
  if (name && name !== 'Unknown' && name !== 'Error' && name !== 'S3ServiceException') return name;
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'InternalError' : 'BadRequest');
}

function isConnectionFailure(e: { name?: string; code?: string }): boolean {
  return (e.code !== undefined && CONNECTION_CODES.has(e.code)) || e.name === 'TimeoutError';
}

function describe(target: S3RequestTarget): string {
  if (target.bucket === undefined) return target.operation;
  return `${target.operation} s3://${target.bucket}${target.key === undefined ? '' : `/${target.key}`}`;
}

function describeStatus(status: number): string {
  return `the S3 endpoint answered HTTP ${status}`;
}

function withCause(error: ObjectStoreError, cause: unknown): ObjectStoreError {
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return error;
}
