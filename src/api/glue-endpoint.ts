import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../core/request-context.js';
import type { Json } from '../core/wire.js';
import { parseRawQuery } from './auth/raw-query.js';
import { checkDeclaredSignature, identifyUnverified, verifySignature, type SignedRequest } from './auth/sigv4.js';
import type { CredentialRegistry } from './auth/credentials.js';
import { ServiceError, diskFull, internalFailure, isDiskFull, serializationError, unknownOperation } from './errors.js';
import { EXTENSION_OPERATIONS, type Operation } from './glue-operations.js';
import { validateInput } from './model/validate.js';
import { BodyBudgetExhausted, BodyIdleTimeout, BodyRefused, BodyTooLarge, type BufferedBody } from './request-body.js';
import type { Log } from '../core/log.js';

/** A Glue request as received, without its body: what can be checked before the body is read. */
export type RequestHead = Omit<SignedRequest, 'body'>;

export interface GlueResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface GlueEndpointOptions {
  operations: ReadonlyMap<string, Operation>;
  credentials: CredentialRegistry;
  /** Accept unsigned requests (explicit opt-in; never the default). */
  noAuth: boolean;
  log: Log;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'AWSGlue.';

/**
 * The AWS JSON 1.1 protocol for Glue: authenticate, dispatch on X-Amz-Target, validate against the
 * model, run the operation, and render the result or the error the way AWS does.
 *
 * The body is read (by `readBody`) only once the headers have passed every check that needs no
 * body: a request with no signature, an unknown key, another service's scope or a stale date is
 * refused before any of its body is held.
 */
export function glueEndpoint(opts: GlueEndpointOptions) {
  return async function handleGlueRequest(head: RequestHead, readBody: () => Promise<BufferedBody>): Promise<GlueResponse> {
    const requestId = randomUUID();
    let body: BufferedBody | undefined;
    try {
      if (!opts.noAuth) {
        checkDeclaredSignature(head.headers, parseRawQuery(head.query), { registry: opts.credentials, service: 'glue', now: new Date() });
      }
      body = await readBody();
      const ctx = await authenticate({ ...head, body: body.bytes }, opts, requestId);
      const target = head.headers['x-amz-target'] ?? '';
      const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
      const operation = name !== undefined ? opts.operations.get(name) : undefined;
      if (!operation || name === undefined) {
        throw unknownOperation(
          target === '' ? 'Missing X-Amz-Target header.' : `Unknown operation ${target}.`,
        );
      }
      const input = parseBody(body.bytes);
      if (!EXTENSION_OPERATIONS.has(name)) validateInput(name, input);
      const output = await operation(ctx, input);
      return respond(200, requestId, JSON.stringify(output));
    } catch (e) {
      const error = toServiceError(e, body === undefined);
      if (error === undefined) {
        opts.log(`request ${requestId} failed: ${(e as Error)?.stack ?? String(e)}`, { level: 'error', requestId });
        const failure = isDiskFull(e) ? diskFull() : internalFailure();
        return respond(failure.status, requestId, JSON.stringify(failure.toBody()), failure.type);
      }
      // Past the discard limit, or after the client broke off, the connection carries nothing more.
      // (A body refused before it was read at all is drained by the HTTP front.)
      const connectionLost = e instanceof BodyRefused ? e.connectionLost : body === undefined && !(e instanceof ServiceError);
      return respond(error.status, requestId, JSON.stringify(error.toBody()), error.type, connectionLost ? { connection: 'close' } : {});
    } finally {
      body?.release();
    }
  };
}

/**
 * The error a failed request answers with; undefined for an internal failure. `whileReading`: it
 * was thrown before the body had been read whole.
 */
function toServiceError(e: unknown, whileReading: boolean): ServiceError | undefined {
  if (e instanceof ServiceError) return e;
  // A transient refusal, which SDKs retry (HTTP 503).
  if (e instanceof BodyBudgetExhausted) return new ServiceError('ServiceUnavailableException', e.message, 503);
  if (e instanceof BodyTooLarge) return serializationError(e.message);
  // SDKs retry RequestTimeoutException: the request did nothing.
  if (e instanceof BodyIdleTimeout) return new ServiceError('RequestTimeoutException', e.message);
  if (whileReading) return serializationError('The request body could not be read.');
  return undefined;
}

async function authenticate(
  req: SignedRequest,
  opts: GlueEndpointOptions,
  requestId: string,
): Promise<RequestContext> {
  // Without auth the caller is whoever the request says it is (anonymous when it says nothing).
  const who = opts.noAuth
    ? identifyUnverified(req, opts.credentials)
    : await verifySignature(req, { registry: opts.credentials, service: 'glue', now: new Date() });
  const accessKeyId = who.accessKeyId ?? 'anonymous';
  return {
    accountId: who.accountId,
    region: who.region,
    accessKeyId,
    requestId,
    principalArn: `arn:aws:iam::${who.accountId}:user/${accessKeyId}`,
  };
}

function parseBody(body: Uint8Array): Json {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw serializationError(`The request body is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw serializationError('The request body must be a JSON object.');
  }
  return parsed as Json;
}

function respond(
  status: number,
  requestId: string,
  body: string,
  errorType?: string,
  extraHeaders: Record<string, string> = {},
): GlueResponse {
  return {
    status,
    headers: {
      'content-type': CONTENT_TYPE,
      'x-amzn-requestid': requestId,
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      ...extraHeaders,
    },
    body,
  };
}
