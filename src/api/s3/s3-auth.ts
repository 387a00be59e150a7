/**
 * SigV4 for the S3 endpoint: the same verifier and credentials as the Glue API, service name `s3`.
 *
 * S3 signs the payload through its declared hash (x-amz-content-sha256), not the body itself, so the
 * body is not read here: the signature is checked over the headers, and the body is checked against
 * what was declared while it streams into the store (payload/request-payload.ts). Only a signed
 * request that declares no payload hash (rare: every S3 SDK sends one) has its body read here,
 * within a size limit, because then the signature covers the body's own hash.
 *
 * The account the request acts for is the signer's (with --no-auth, the one its credential scope
 * names, else the default account): buckets belong to accounts (storage/account-object-store.ts).
 */
import { parseRawQuery } from '../auth/raw-query.js';
import { checkDeclaredSignature, identifyUnverified, parseAuthorizationScope, verifySignature } from '../auth/sigv4.js';
import type { Credential, CredentialRegistry } from '../auth/credentials.js';
import { readDeclaredSignature, usesQueryAuthentication, type DeclaredSignature } from '../auth/declared-signature.js';
import { ServiceError } from '../errors.js';
import { BodyTooLarge, readBufferedBody, type BufferedBody, type BufferedBodyBudget } from '../request-body.js';
import { invalidRequest } from './s3-errors.js';
import type { S3Address } from './s3-routing.js';
import { signingKeyFor, type ChunkSigning } from './payload/aws-chunked.js';
import { checkDeclaredPayloadHash, isSignedStreaming, type PayloadPlan } from './payload/request-payload.js';

export interface S3AuthOptions {
  credentials: CredentialRegistry;
  noAuth: boolean;
  /** Largest body read for a signed request that declares no x-amz-content-sha256. */
  maxUnhashedBodyBytes: number;
  /** What such a body counts against while it is held. */
  bodyBudget: BufferedBodyBudget;
}

export interface S3Authentication {
  plan: PayloadPlan;
  /** The account the request acts for. */
  accountId: string;
  /** The region the request was signed for, if it names one (HeadBucket and GetBucketLocation echo it). */
  region?: string;
  /** Gives a body read here back to the budget, once the request is done with it. */
  release(): void;
}

const NOTHING_HELD = () => undefined;

const EMPTY = new Uint8Array(0);

/** Verifies the request (unless --no-auth) and says how its payload is to be read and checked. */
export async function authenticateS3(
  request: Request,
  address: S3Address,
  headers: Record<string, string>,
  options: S3AuthOptions,
): Promise<S3Authentication> {
  const query = parseRawQuery(address.rawQuery);
  const presigned = usesQueryAuthentication(query);
  const contentSha256 =
    headers['x-amz-content-sha256'] ?? (presigned ? query.find(([name]) => name === 'X-Amz-Content-Sha256')?.[1] : undefined);
  const region = parseAuthorizationScope(headers, address.rawQuery)?.region;
  const signed = presigned || headers['authorization'] !== undefined;
  if (options.noAuth) {
    checkDeclaredPayloadHash(contentSha256);
    const { accountId } = identifyUnverified({ headers, query: address.rawQuery }, options.credentials);
    return {
      plan: contentSha256 !== undefined ? { contentSha256 } : {},
      accountId,
      ...(region ? { region } : {}),
      release: NOTHING_HELD,
    };
  }

  // Everything the signature says about itself is checked before any body is read.
  checkDeclaredSignature(headers, query, { registry: options.credentials, service: 's3', now: new Date() });
  const held = signed && !presigned && contentSha256 === undefined ? await readSmallBody(request, options) : undefined;
  try {
    const verified = await verify(request, address, headers, options, contentSha256, held?.bytes);
    return { ...verified, ...(region ? { region } : {}), release: held?.release ?? NOTHING_HELD };
  } catch (e) {
    held?.release();
    throw e;
  }
}

/** The signature check proper, once a body that the signature covers (`buffered`) has been read. */
async function verify(
  request: Request,
  address: S3Address,
  headers: Record<string, string>,
  options: S3AuthOptions,
  contentSha256: string | undefined,
  buffered: Uint8Array | undefined,
): Promise<Pick<S3Authentication, 'plan' | 'accountId'>> {
  let accountId: string;
  try {
    ({ accountId } = await verifySignature(
      { method: request.method, path: address.rawPath, query: address.rawQuery, headers, body: buffered ?? EMPTY },
      { registry: options.credentials, service: 's3', now: new Date() },
    ));
  } catch (e) {
    // Handed an empty stand-in body, the verifier reports a declared hex hash as mismatched, but
    // only after the signature itself has verified: the real body is checked as it streams in.
    const deferredBodyCheck = e instanceof ServiceError && e.type === 'XAmzContentSHA256Mismatch' && !buffered;
    if (!deferredBodyCheck) throw e;
    accountId = verifiedSigner(headers, address.rawQuery, options.credentials).credential.accountId;
  }
  checkDeclaredPayloadHash(contentSha256);
  const plan: PayloadPlan = {
    ...(contentSha256 !== undefined ? { contentSha256 } : {}),
    ...(buffered ? { buffered } : {}),
    ...(isSignedStreaming(contentSha256) ? { chunkSigning: chunkSigningFor(headers, address.rawQuery, options.credentials) } : {}),
  };
  return { plan, accountId };
}

/** The credential and declared signature of a request whose signature has verified. */
function verifiedSigner(
  headers: Record<string, string>,
  rawQuery: string,
  credentials: CredentialRegistry,
): { credential: Credential; declared: DeclaredSignature } {
  const declared = readDeclaredSignature(headers, parseRawQuery(rawQuery));
  const credential = credentials.lookup(declared.scope.accessKeyId);
  if (!credential) throw new Error('a verified request names an unknown access key'); // verifySignature checked it
  return { credential, declared };
}

/** The key and chain start for verifying aws-chunked chunk signatures of a verified request. */
function chunkSigningFor(headers: Record<string, string>, rawQuery: string, credentials: CredentialRegistry): ChunkSigning {
  const { credential, declared } = verifiedSigner(headers, rawQuery, credentials);
  const { date, region, service } = declared.scope;
  return {
    signingKey: signingKeyFor(credential.secretAccessKey, date, region, service),
    amzDate: declared.amzDate,
    scope: `${date}/${region}/${service}/aws4_request`,
    seedSignature: declared.signature,
  };
}

/** The body of a signed request that declares no payload hash: the signature covers its own hash. */
async function readSmallBody(request: Request, options: S3AuthOptions): Promise<BufferedBody> {
  try {
    return await readBufferedBody(request, { maxBytes: options.maxUnhashedBodyBytes, budget: options.bodyBudget });
  } catch (e) {
    if (!(e instanceof BodyTooLarge)) throw e;
    throw invalidRequest(
      `Missing required header for this request: x-amz-content-sha256 (needed for bodies over ${options.maxUnhashedBodyBytes} bytes).`,
    );
  }
}
