import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../core/request-context.js';
import type { Json } from '../core/wire.js';
import { identifyUnverified, verifySignature, type SignedRequest } from './auth/sigv4.js';
import type { CredentialRegistry } from './auth/credentials.js';
import { ServiceError, diskFull, internalFailure, isDiskFull, serializationError, unknownOperation } from './errors.js';
import type { Operation } from './glue-operations.js';
import { validateInput } from './model/validate.js';

/** A Glue request as received: the very request SigV4 verification reads. */
export type RawRequest = SignedRequest;

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
  log: (message: string) => void;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'AWSGlue.';

/**
 * The AWS JSON 1.1 protocol for Glue: authenticate, dispatch on X-Amz-Target, validate against the
 * model, run the operation, and render the result or the error the way AWS does.
 */
export function glueEndpoint(opts: GlueEndpointOptions) {
  return async function handleGlueRequest(req: RawRequest): Promise<GlueResponse> {
    const requestId = randomUUID();
    try {
      const ctx = await authenticate(req, opts, requestId);
      const target = req.headers['x-amz-target'] ?? '';
      const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
      const operation = name !== undefined ? opts.operations.get(name) : undefined;
      if (!operation || name === undefined) {
        throw unknownOperation(
          target === '' ? 'Missing X-Amz-Target header.' : `Unknown operation ${target}.`,
        );
      }
      const input = parseBody(req.body);
      validateInput(name, input);
      const output = await operation(ctx, input);
      return respond(200, requestId, JSON.stringify(output));
    } catch (e) {
      const error = e instanceof ServiceError ? e : isDiskFull(e) ? diskFull() : internalFailure();
      if (!(e instanceof ServiceError)) {
        opts.log(`request ${requestId} failed: ${(e as Error)?.stack ?? String(e)}`);
      }
      return respond(error.status, requestId, JSON.stringify(error.toBody()), error.type);
    }
  };
}

async function authenticate(
  req: RawRequest,
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

function respond(status: number, requestId: string, body: string, errorType?: string): GlueResponse {
  return {
    status,
    headers: {
      'content-type': CONTENT_TYPE,
      'x-amzn-requestid': requestId,
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    },
    body,
  };
}
