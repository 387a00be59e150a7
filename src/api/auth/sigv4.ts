/**
 * SigV4 request verification (Authorization header and presigned URLs) for the Glue and S3 endpoints.
 *
 * The expected signature is computed by @smithy/signature-v4, the signer the JS SDK itself uses, fed
 * with a request rebuilt from exactly what the client declared it signed. Checks run in the order AWS
 * front ends apply them, so a request with several problems reports the same one AWS would:
 *   1. no authentication at all               MissingAuthenticationTokenException
 *   2. unparseable / incomplete               IncompleteSignatureException
 *   3. algorithm other than AWS4-HMAC-SHA256  IncompleteSignatureException
 *   4. scope: other service, implausible region  InvalidSignatureException
 *   5. unknown access key                     UnrecognizedClientException
 *   6. clock skew / presigned URL expired     InvalidSignatureException / AccessDeniedException
 *   7. scope date ≠ X-Amz-Date's date         InvalidSignatureException
 *   8. signature mismatch                     InvalidSignatureException
 * All are 403 ServiceErrors (errors.ts `authError`); one S3-only 400 follows a valid signature.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ServiceError, authError } from '../errors.js';
import { formatAmzDate } from './amz-date.js';
import { DEFAULT_ACCOUNT_ID, type Credential, type CredentialRegistry } from './credentials.js';
import {
  AUTH_ERROR,
  SIGV4_ALGORITHM,
  isPlausibleRegion,
  readCredentialScope,
  readDeclaredSignature,
  type DeclaredSignature,
} from './declared-signature.js';
import { firstQueryValue, parseRawQuery, toSignerQuery, type QueryPairs } from './raw-query.js';

export { AUTH_ERROR } from './declared-signature.js';

export type SigningService = 'glue' | 's3';

/** A request as received on the wire; nothing decoded, normalised or re-ordered. */
export interface SignedRequest {
  method: string;
  /** Raw path as received (percent-encoding intact), without the query. */
  path: string;
  /** Raw query string without '?'. */
  query: string;
  /** Lower-cased names, values as received. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface VerifyOptions {
  registry: CredentialRegistry;
  service: SigningService;
  now: Date;
  /** Allowed distance between X-Amz-Date and `now`, either way. Default 5 minutes, as AWS. */
  maxSkewMs?: number;
}

export interface CallerIdentity {
  accessKeyId: string;
  accountId: string;
  /** Region named by the credential scope; any region is accepted. */
  region: string;
}

export const DEFAULT_MAX_SKEW_MS = 5 * 60 * 1000;
export const DEFAULT_REGION = 'us-east-1';

const CONTENT_SHA256 = 'x-amz-content-sha256';
const SECURITY_TOKEN = 'x-amz-security-token';
const AMZ_DATE = 'x-amz-date';
const SECURITY_TOKEN_PARAM = 'X-Amz-Security-Token';
const CONTENT_SHA256_PARAM = 'X-Amz-Content-Sha256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const HEX_SHA256 = /^[0-9a-f]{64}$/;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Verifies a SigV4-signed request and returns who sent it, or throws a 403 ServiceError (see the
 * order above). For S3 a signed hex `x-amz-content-sha256` that the body does not match is reported
 * after the signature check as S3's own 400 `XAmzContentSHA256Mismatch`.
 */
export async function verifySignature(request: SignedRequest, options: VerifyOptions): Promise<CallerIdentity> {
  const query = parseRawQuery(request.query);
  const { declared, credential } = checkDeclaredSignature(request.headers, query, options);
  const bodyHash = sha256Hex(request.body);
  const payloadHash = choosePayloadHash(request, query, declared, options.service, bodyHash);
  // Non-S3 services sign the body itself. The JS SDK also sends (and signs) x-amz-content-sha256, and
  // the signer would trust that header over the body, so a body that no longer matches it is tampered.
  if (options.service !== 's3' && payloadHash !== bodyHash) throw signatureMismatch();

  const expected = await computeSignature(request, query, declared, credential.secretAccessKey, payloadHash);
  if (!constantTimeEquals(expected, declared.signature)) throw signatureMismatch();

  if (options.service === 's3' && HEX_SHA256.test(payloadHash) && payloadHash !== bodyHash) {
    throw new ServiceError(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      400,
    );
  }
  return { accessKeyId: credential.accessKeyId, accountId: credential.accountId, region: declared.scope.region };
}

/**
 * Steps 1 to 7 of the order above: everything that can be checked before the body is read (the
 * declared algorithm, scope, access key, signing time and date). Returns the declared signature and
 * the credential it names, or throws the 403 ServiceError the full verification would throw first.
 */
export function checkDeclaredSignature(
  headers: Readonly<Record<string, string>>,
  query: QueryPairs,
  options: VerifyOptions,
): { declared: DeclaredSignature; credential: Credential } {
  const declared = readDeclaredSignature(headers, query);

  if (declared.algorithm !== SIGV4_ALGORITHM) {
    throw authError(
      AUTH_ERROR.incomplete,
      `Unsupported AWS 'algorithm': '${declared.algorithm}'; only '${SIGV4_ALGORITHM}' is supported.`,
    );
  }
  if (declared.scope.service !== options.service) {
    throw authError(
      AUTH_ERROR.invalidSignature,
      `Credential should be scoped to correct service: '${options.service}'.`,
    );
  }
  if (!isPlausibleRegion(declared.scope.region)) {
    throw authError(AUTH_ERROR.invalidSignature, 'Credential should be scoped to a valid region.');
  }
  const credential = options.registry.lookup(declared.scope.accessKeyId);
  if (!credential) {
    throw authError(AUTH_ERROR.unrecognizedClient, 'The security token included in the request is invalid.');
  }
  checkSigningTime(declared, options.now, options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  const dateOfAmzDate = declared.amzDate.slice(0, 8);
  if (declared.scope.date !== dateOfAmzDate) {
    throw authError(
      AUTH_ERROR.invalidSignature,
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${declared.scope.date}' != '${dateOfAmzDate}', from '${declared.amzDate}'.`,
    );
  }
  return { declared, credential };
}

/**
 * Access key and region named by the request's credential scope (Authorization header, or presigned
 * query when `query` is given), with no verification at all; undefined when there is no readable scope.
 */
export function parseAuthorizationScope(
  headers: Readonly<Record<string, string>>,
  query = '',
): { accessKeyId: string; region: string } | undefined {
  const scope = readCredentialScope(headers, parseRawQuery(query));
  if (!scope || !isPlausibleRegion(scope.region)) return undefined;
  return { accessKeyId: scope.accessKeyId, region: scope.region };
}

/**
 * Identity for `--no-auth` mode: requests are accepted unsigned, the region comes from the scope if
 * there is one (else us-east-1), the account from the scope's key if it is configured (else the default).
 */
export function identifyUnverified(
  request: Pick<SignedRequest, 'headers'> & { query?: string },
  registry: CredentialRegistry,
): { accessKeyId: string | undefined; accountId: string; region: string } {
  const scope = parseAuthorizationScope(request.headers, request.query);
  const accountId = (scope && registry.lookup(scope.accessKeyId)?.accountId) ?? DEFAULT_ACCOUNT_ID;
  return { accessKeyId: scope?.accessKeyId, accountId, region: scope?.region ?? DEFAULT_REGION };
}

function checkSigningTime(declared: DeclaredSignature, now: Date, maxSkewMs: number): void {
  const signedAt = declared.signingDate.getTime();
  const skewMinutes = `${Number((maxSkewMs / 60_000).toFixed(2))} min.`;
  if (signedAt - now.getTime() > maxSkewMs) {
    const latest = formatAmzDate(new Date(now.getTime() + maxSkewMs));
    throw authError(
      AUTH_ERROR.invalidSignature,
      `Signature not yet current: ${declared.amzDate} is still later than ${latest} (${formatAmzDate(now)} + ${skewMinutes})`,
    );
  }
  if (declared.location === 'query') {
    // A presigned URL is meant to be used later: its own lifetime replaces the skew window.
    if (now.getTime() > signedAt + declared.expiresSeconds! * 1000) {
      throw authError(AUTH_ERROR.expiredPresignedUrl, 'Request has expired');
    }
    return;
  }
  if (now.getTime() - signedAt > maxSkewMs) {
    const earliest = formatAmzDate(new Date(now.getTime() - maxSkewMs));
    throw authError(
      AUTH_ERROR.invalidSignature,
      `Signature expired: ${declared.amzDate} is now earlier than ${earliest} (${formatAmzDate(now)} - ${skewMinutes})`,
    );
  }
}

/**
 * The last line of the canonical request. Glue and other JSON services: SHA-256 of the body. S3: the
 * declared x-amz-content-sha256 (UNSIGNED-PAYLOAD and STREAMING-* taken as declared); S3 presigned
 * URLs: the signed header, else X-Amz-Content-Sha256 from the query, else UNSIGNED-PAYLOAD.
 */
function choosePayloadHash(
  request: SignedRequest,
  query: QueryPairs,
  declared: DeclaredSignature,
  service: SigningService,
  bodyHash: string,
): string {
  const declaredHash = request.headers[CONTENT_SHA256];
  const signsDeclaredHash = declaredHash !== undefined && declared.signedHeaders.includes(CONTENT_SHA256);
  if (service !== 's3') return signsDeclaredHash ? declaredHash : bodyHash;
  if (declared.location === 'query') {
    // The JS presigner hoists its x-amz-content-sha256 header into the query (X-Amz-Content-Sha256).
    return signsDeclaredHash ? declaredHash : (firstQueryValue(query, CONTENT_SHA256_PARAM) ?? UNSIGNED_PAYLOAD);
  }
  return declaredHash ?? bodyHash;
}

/**
 * Runs the smithy signer over a request holding only the declared signed headers and returns the
 * signature it produces ('' when it could not have produced the declared one). The signer adds
 * x-amz-date, x-amz-security-token and x-amz-content-sha256 on its own and drops some headers it never
 * signs (user-agent, expect, ...); the signable/unsignable sets below make its canonical header list
 * exactly the declared one.
 */
async function computeSignature(
  request: SignedRequest,
  query: QueryPairs,
  declared: DeclaredSignature,
  secretAccessKey: string,
  payloadHash: string,
): Promise<string> {
  const declaredNames = new Set(declared.signedHeaders);
  const headers: Record<string, string> = {};
  for (const name of declaredNames) {
    // Own string values only: a declared name like `constructor` must not pick up Object.prototype.
    const value = Object.hasOwn(request.headers, name) ? request.headers[name] : undefined;
    if (typeof value === 'string') headers[name] = value;
  }
  // getPayloadHash() reads this header when present: our way of pinning the payload hash.
  headers[CONTENT_SHA256] = payloadHash;
  const addedBySigner = [AMZ_DATE, SECURITY_TOKEN, CONTENT_SHA256];
  const unsignableHeaders = new Set(addedBySigner.filter((name) => !declaredNames.has(name)));

  const sessionToken =
    declared.location === 'query'
      ? firstQueryValue(query, SECURITY_TOKEN_PARAM)
      : declaredNames.has(SECURITY_TOKEN)
        ? request.headers[SECURITY_TOKEN]
        : undefined;
  const signer = new SignatureV4({
    service: declared.scope.service,
    region: declared.scope.region,
    credentials: { accessKeyId: declared.scope.accessKeyId, secretAccessKey, sessionToken },
    sha256: Sha256,
    applyChecksum: false,
    // S3 signs the path exactly as sent; every other service signs it normalised and encoded again.
    uriEscapePath: declared.scope.service !== 's3',
  });
  const unsigned = new HttpRequest({
    method: request.method,
    protocol: 'http:',
    hostname: request.headers['host'] ?? 'localhost',
    path: request.path,
    query: toSignerQuery(query),
    headers,
    body: request.body,
  });
  const signingOptions = {
    signingDate: declared.signingDate,
    signingRegion: declared.scope.region,
    signingService: declared.scope.service,
    signableHeaders: declaredNames,
    unsignableHeaders,
  };

  let signature: string | undefined;
  let signedHeaderList: string | undefined;
  if (declared.location === 'query') {
    const presigned = await signer.presign(unsigned, {
      ...signingOptions,
      expiresIn: declared.expiresSeconds!,
      // Headers the client sent as headers stay headers (presign() would move x-amz-* into the query).
      unhoistableHeaders: new Set([...declaredNames, CONTENT_SHA256]),
    });
    signature = presigned.query?.['X-Amz-Signature']?.toString();
    signedHeaderList = presigned.query?.['X-Amz-SignedHeaders']?.toString();
  } else {
    const signed = await signer.sign(unsigned, signingOptions);
    const authorization = /SignedHeaders=([^,]*), Signature=(\S*)$/.exec(String(signed.headers['authorization']));
    signedHeaderList = authorization?.[1];
    signature = authorization?.[2];
  }
  // The declared list is part of what the client signed. If ours differs (a declared header is absent,
  // the list is unsorted or repeats a name, or it names one the signer always drops, like `date`), the
  // client cannot have signed what we just did, even if the signatures happened to agree.
  return signedHeaderList === declared.signedHeaders.join(';') ? (signature ?? '') : '';
}

function sha256Hex(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Compares signatures without leaking, through timing, how many leading characters were right. */
function constantTimeEquals(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return expected !== '' && a.length === b.length && timingSafeEqual(a, b);
}

const signatureMismatch = () => authError(AUTH_ERROR.invalidSignature, SIGNATURE_MISMATCH);
