/**
 * What a SigV4 request claims about itself, read from the Authorization header or from presigned-URL
 * query parameters, before anything is checked against secrets or clocks.
 *
 * Reading throws only "missing" and "incomplete" errors, the first two steps of the verification order
 * (see sigv4.ts); everything that needs a decision (algorithm, service, key, time, signature) is left to
 * the verifier.
 */
import { ServiceError, authError } from '../errors.js';
import { parseAmzDate } from './amz-date.js';
import { firstQueryValue, type QueryPairs } from './raw-query.js';

export const AUTH_ERROR = {
  missingToken: 'MissingAuthenticationTokenException',
  incomplete: 'IncompleteSignatureException',
  invalidSignature: 'InvalidSignatureException',
  unrecognizedClient: 'UnrecognizedClientException',
  /** A presigned URL used after X-Amz-Date + X-Amz-Expires (S3's `AccessDenied: Request has expired`). */
  expiredPresignedUrl: 'AccessDeniedException',
} as const;

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
const SCOPE_TERMINATOR = 'aws4_request';
/** AWS caps presigned URLs at one week. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 60 * 60;

export interface CredentialScope {
  accessKeyId: string;
  /** yyyymmdd */
  date: string;
  region: string;
  service: string;
}

export interface DeclaredSignature {
  /** `header`: Authorization header; `query`: presigned URL. */
  location: 'header' | 'query';
  algorithm: string;
  scope: CredentialScope;
  /** Lower-cased names, in the order declared. */
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date exactly as sent, and the instant it names. */
  amzDate: string;
  signingDate: Date;
  /** Presigned URLs only. */
  expiresSeconds?: number;
}

const PRESIGN_PARAMS = {
  algorithm: 'X-Amz-Algorithm',
  credential: 'X-Amz-Credential',
  date: 'X-Amz-Date',
  expires: 'X-Amz-Expires',
  signedHeaders: 'X-Amz-SignedHeaders',
  signature: 'X-Amz-Signature',
} as const;

/**
 * The declared signature of a request, or a thrown 403 ServiceError when there is none or it is
 * incomplete. `headers` have lower-cased names.
 */
export function readDeclaredSignature(
  headers: Readonly<Record<string, string>>,
  query: QueryPairs,
): DeclaredSignature {
  const authorization = headers['authorization']?.trim() ?? '';
  const presigned = usesQueryAuthentication(query);
  if (authorization !== '' && presigned) {
    throw incomplete(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.',
    );
  }
  if (presigned) return readPresignedQuery(query);
  if (/^AWS\s/.test(authorization)) throw signatureVersion2('request (Authorization: AWS <key>:<signature>)');
  if (authorization === '') {
    if (usesVersion2QueryAuthentication(query)) {
      throw signatureVersion2('presigned URL (AWSAccessKeyId, Signature, Expires)');
    }
    throw authError(AUTH_ERROR.missingToken, 'Missing Authentication Token');
  }
  return readAuthorizationHeader(authorization, headers['x-amz-date']);
}

/** What S3 answers a request signed with anything but SigV4 (400 InvalidRequest there). */
export const UNSUPPORTED_AUTHORIZATION_MESSAGE =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

/**
 * A request signed with Signature Version 2 (`Authorization: AWS key:signature`, or
 * AWSAccessKeyId / Signature / Expires in the query). S3 answers it 400 InvalidRequest with its fixed
 * message; Glue, whose API never had Version 2, an IncompleteSignatureException. boto3 presigns S3
 * URLs with Version 2 unless told otherwise, so this is the refusal a boto3 user meets first: `Detail`
 * (a member of its own, since clients match on the message) says what to change.
 */
export class SignatureVersion2Refused extends ServiceError {
  constructor(readonly detail: string) {
    super(AUTH_ERROR.incomplete, UNSUPPORTED_AUTHORIZATION_MESSAGE, 403, { Detail: detail });
  }
}

function signatureVersion2(what: string): SignatureVersion2Refused {
  return new SignatureVersion2Refused(
    `This ${what} is signed with Signature Version 2; only Signature Version 4 (${SIGV4_ALGORITHM}) is supported. ` +
      "In boto3: boto3.client('s3', config=botocore.config.Config(signature_version='s3v4')); " +
      'in the AWS CLI: aws configure set default.s3.signature_version s3v4.',
  );
}

/** True when the query carries Signature Version 2 query authentication (AWSAccessKeyId with a Signature). */
export function usesVersion2QueryAuthentication(query: QueryPairs): boolean {
  return query.some(([name]) => name === 'AWSAccessKeyId') && query.some(([name]) => name === 'Signature');
}

/** True when the query carries any presigned-URL authentication parameter. */
export function usesQueryAuthentication(query: QueryPairs): boolean {
  return query.some(
    ([name]) =>
      name === PRESIGN_PARAMS.algorithm ||
      name === PRESIGN_PARAMS.credential ||
      name === PRESIGN_PARAMS.signature,
  );
}

/**
 * The credential scope named by the Authorization header (or a presigned query), without checking
 * anything else. Used where requests are accepted unsigned but should still land in the caller's
 * region and account.
 */
export function readCredentialScope(
  headers: Readonly<Record<string, string>>,
  query: QueryPairs,
): CredentialScope | undefined {
  const credential = usesQueryAuthentication(query)
    ? firstQueryValue(query, PRESIGN_PARAMS.credential)
    : splitAuthorizationHeader(headers['authorization']?.trim() ?? '')?.params.get('Credential');
  return credential === undefined ? undefined : parseCredentialScope(credential);
}

function readAuthorizationHeader(
  authorization: string,
  amzDateHeader: string | undefined,
): DeclaredSignature {
  const parsed = splitAuthorizationHeader(authorization);
  if (!parsed) {
    throw incomplete(`Authorization header is not of the form '${SIGV4_ALGORITHM} Credential=…, SignedHeaders=…, Signature=…'.`);
  }
  const credential = parsed.params.get('Credential');
  const signedHeaders = parsed.params.get('SignedHeaders');
  const signature = parsed.params.get('Signature');
  // An empty value (`Signature=`) is as missing as an absent one.
  const missing = [
    !credential && "Authorization header requires 'Credential' parameter.",
    !signedHeaders && "Authorization header requires 'SignedHeaders' parameter.",
    !signature && "Authorization header requires 'Signature' parameter.",
    !amzDateHeader && "Authorization header requires existence of an 'X-Amz-Date' header.",
  ].filter((problem): problem is string => typeof problem === 'string');
  if (missing.length > 0) throw incomplete(missing.join(' '));

  return {
    location: 'header',
    algorithm: parsed.algorithm,
    scope: requireCredentialScope(credential!),
    signedHeaders: requireSignedHeaderList(signedHeaders!, 'SignedHeaders'),
    signature: signature!,
    ...requireAmzDate(amzDateHeader!),
  };
}

function readPresignedQuery(query: QueryPairs): DeclaredSignature {
  const value = (name: string) => firstQueryValue(query, name);
  const missingNames = Object.values(PRESIGN_PARAMS).filter((name) => !value(name));
  if (missingNames.length > 0) {
    throw incomplete(
      `Query-string authentication requires the ${missingNames.map((name) => `'${name}'`).join(', ')} parameter${missingNames.length > 1 ? 's' : ''}.`,
    );
  }
  return {
    location: 'query',
    algorithm: value(PRESIGN_PARAMS.algorithm)!,
    scope: requireCredentialScope(value(PRESIGN_PARAMS.credential)!),
    signedHeaders: requireSignedHeaderList(value(PRESIGN_PARAMS.signedHeaders)!, PRESIGN_PARAMS.signedHeaders),
    signature: value(PRESIGN_PARAMS.signature)!,
    ...requireAmzDate(value(PRESIGN_PARAMS.date)!),
    expiresSeconds: requireExpires(value(PRESIGN_PARAMS.expires)!),
  };
}

/**
 * `ALGORITHM Name=value, Name=value, ...` → algorithm and parameters. Clients put `, ` between the
 * parameters; any spacing is accepted. Undefined when the shape is wrong or a parameter repeats.
 */
function splitAuthorizationHeader(
  authorization: string,
): { algorithm: string; params: Map<string, string> } | undefined {
  const match = /^(\S+)\s+(\S[\s\S]*)$/.exec(authorization);
  if (!match) return undefined;
  const params = new Map<string, string>();
  for (const part of match[2]!.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    if (equals <= 0) return undefined;
    const name = item.slice(0, equals).trim();
    if (params.has(name)) return undefined;
    params.set(name, item.slice(equals + 1).trim());
  }
  return { algorithm: match[1]!, params };
}

/**
 * Region names end up in ARNs and storage keys, so only AWS-like names are accepted: letters, digits,
 * '-' and '_' (custom names such as `local` are fine; ':', '.', spaces are not).
 */
export function isPlausibleRegion(region: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(region);
}

/** `AKID/yyyymmdd/region/service/aws4_request` → its parts; undefined if it is not of that form. */
function parseCredentialScope(credential: string): CredentialScope | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((part) => part === '')) return undefined;
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date) || terminator !== SCOPE_TERMINATOR) return undefined;
  return { accessKeyId, date, region, service };
}

function requireCredentialScope(credential: string): CredentialScope {
  const scope = parseCredentialScope(credential);
  if (!scope) {
    throw incomplete(
      `Credential should have the form '<access key id>/<yyyymmdd>/<region>/<service>/${SCOPE_TERMINATOR}', got '${credential}'.`,
    );
  }
  return scope;
}

function requireSignedHeaderList(list: string, parameter: string): string[] {
  const names = list.split(';').map((name) => name.trim().toLowerCase());
  if (names.some((name) => name === '')) {
    throw incomplete(`${parameter} must be a ';'-separated list of header names, got '${list}'.`);
  }
  return names;
}

function requireAmzDate(amzDate: string): { amzDate: string; signingDate: Date } {
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) {
    throw incomplete(`Date must be in ISO-8601 'basic format' (yyyyMMdd'T'HHmmss'Z'). Got '${amzDate}'.`);
  }
  return { amzDate, signingDate };
}

function requireExpires(expires: string): number {
  // Strict digits: the signature covers the parameter's exact text, so '0600' could never verify anyway.
  if (!/^[1-9]\d{0,9}$/.test(expires)) {
    throw incomplete(`X-Amz-Expires must be a positive whole number of seconds, got '${expires}'.`);
  }
  const seconds = Number(expires);
  if (seconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw incomplete(
      `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}.`,
    );
  }
  return seconds;
}

const incomplete = (message: string) => authError(AUTH_ERROR.incomplete, message);
