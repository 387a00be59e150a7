/**
 * S3's error vocabulary. Everything a request can fail with ends up as an S3Error, rendered as
 * `<Error><Code>…</Code><Message>…</Message>…</Error>` by the endpoint (s3-response.ts).
 */
import { ServiceError } from '../errors.js';
import { AUTH_ERROR } from '../auth/sigv4.js';
import { SignatureVersion2Refused } from '../auth/declared-signature.js';
import { ObjectStoreError } from '../../storage/object-store.js';
import { BodyBudgetExhausted, BodyIdleTimeout } from '../request-body.js';

export class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** Extra members of the error document (BucketName, Key, UploadId, ...). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

const error = (code: string, status: number) => (message: string, details?: Record<string, string>) =>
  new S3Error(code, message, status, details);

export const invalidArgument = error('InvalidArgument', 400);
export const invalidRequest = error('InvalidRequest', 400);
/** S3's fixed message; what is wrong goes into a Detail member, since clients match on the message. */
export const malformedXml = (why: string) =>
  new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
    400,
    { Detail: why },
  );
export const notImplemented = (what: string) =>
  new S3Error('NotImplemented', `A header or query you provided implies functionality that is not implemented: ${what}`, 501);
export const methodNotAllowed = (method: string, resource: string) =>
  new S3Error('MethodNotAllowed', `The specified method is not allowed against this resource: ${method} ${resource}`, 405);
export const invalidUri = () => new S3Error('InvalidURI', "Couldn't parse the specified URI.", 400);
export const badDigest = (what: string) =>
  new S3Error('BadDigest', `The ${what} you specified did not match the calculated checksum.`, 400);
export const invalidDigest = (what: string) => new S3Error('InvalidDigest', `The ${what} you specified was invalid.`, 400);
export const incompleteBody = (why: string) =>
  new S3Error('IncompleteBody', `You did not provide the number of bytes specified by the Content-Length HTTP header: ${why}`, 400);
export const preconditionFailed = (condition: string) =>
  new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: condition });
export const entityTooLarge = (max: number) =>
  new S3Error('EntityTooLarge', `Your proposed upload exceeds the maximum allowed object size (${max} bytes).`, 400);
export const metadataTooLarge = (max: number) =>
  new S3Error('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size (${max} bytes).`, 400);
export const maxMessageLengthExceeded = () =>
  new S3Error('MaxMessageLengthExceeded', 'Your request was too big.', 400);
export const internalError = () =>
  new S3Error('InternalError', 'We encountered an internal error. Please try again.', 500);
export const contentSha256Mismatch = () =>
  new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
export const signatureDoesNotMatch = (why = '') =>
  new S3Error(
    'SignatureDoesNotMatch',
    `The request signature we calculated does not match the signature you provided. Check your key and signing method.${why ? ` (${why})` : ''}`,
    403,
  );

/**
 * S3's fixed messages for the store's errors. The store's own messages name the bucket, key or
 * size (Glue task-run errors show them); on the S3 wire those go into their own members
 * (BucketName, Key, UploadId, ActualObjectSize), because SDKs and tools match on S3's messages.
 */
const S3_MESSAGES: Readonly<Record<string, string>> = {
  NoSuchBucket: 'The specified bucket does not exist',
  NoSuchKey: 'The specified key does not exist.',
  BucketAlreadyOwnedByYou: 'Your previous request to create the named bucket succeeded and you already own it.',
  BucketNotEmpty: 'The bucket you tried to delete is not empty',
  InvalidBucketName: 'The specified bucket is not valid.',
  InvalidRange: 'The requested range is not satisfiable',
  EntityTooSmall: 'Your proposed upload is smaller than the minimum allowed object size.',
  PreconditionFailed: 'At least one of the pre-conditions you specified did not hold',
  NoSuchUpload:
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
};

/**
 * The S3 form of any error: store errors keep their S3 code; SigV4 verification errors (named as
 * the JSON services name them) get S3's codes; anything else is an internal error.
 */
export function toS3Error(e: unknown, context: { presigned: boolean }): S3Error {
  if (e instanceof S3Error) return e;
  if (isClientDisconnect(e)) return incompleteBody('the connection closed before the body ended');
  // The store says whose bucket it is; S3 says no more than this.
  if (e instanceof ObjectStoreError && e.code === 'AccessDenied') return new S3Error('AccessDenied', 'Access Denied', 403);
  if (e instanceof ObjectStoreError) return new S3Error(e.code, S3_MESSAGES[e.code] ?? e.message, e.status, e.details);
  if (e instanceof SignatureVersion2Refused) return invalidRequest(e.message, { Detail: e.detail });
  if (e instanceof ServiceError) return fromAuthError(e, context.presigned);
  if (e instanceof BodyBudgetExhausted) return new S3Error('SlowDown', 'Please reduce your request rate.', 503);
  if (e instanceof BodyIdleTimeout) {
    return new S3Error(
      'RequestTimeout',
      'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.',
      400,
    );
  }
  return internalError();
}

function fromAuthError(e: ServiceError, presigned: boolean): S3Error {
  switch (e.type) {
    case AUTH_ERROR.missingToken:
      return new S3Error('AccessDenied', 'Access Denied', 403);
    case AUTH_ERROR.expiredPresignedUrl:
      return new S3Error('AccessDenied', e.message, 403);
    case AUTH_ERROR.incomplete:
      return new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', e.message, 400);
    case AUTH_ERROR.unrecognizedClient:
      return new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403);
    case AUTH_ERROR.invalidSignature:
      if (/^Signature (expired|not yet current)/.test(e.message)) {
        return new S3Error(
          'RequestTimeTooSkewed',
          `The difference between the request time and the current time is too large. ${e.message}`,
          403,
        );
      }
      if (/^(Credential should be scoped|Date in Credential scope)/.test(e.message)) {
        return new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', e.message, 400);
      }
      return signatureDoesNotMatch();
    case 'XAmzContentSHA256Mismatch':
      return contentSha256Mismatch();
    default:
      return new S3Error('AccessDenied', e.message, 403);
  }
}

/** The client went away while sending (Node's 'aborted' / ECONNRESET): its mistake, not ours. */
function isClientDisconnect(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || e.message === 'aborted' || e.name === 'AbortError';
}
