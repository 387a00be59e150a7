/** What an operation handler is given: the addressed resource, the request, the store and the payload. */
import { createHash } from 'node:crypto';
import type { AccountObjectStore } from '../../storage/account-object-store.js';
import { BodyBudgetExhausted, type BufferedBodyBudget } from '../request-body.js';
import { invalidRequest, maxMessageLengthExceeded } from './s3-errors.js';
import type { S3Address, S3Operation } from './s3-routing.js';
import type { Payload } from './payload/request-payload.js';
import { parseXml } from './s3-xml.js';

export interface S3Call {
  operation: S3Operation;
  method: string;
  address: S3Address;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** The object store as the caller's account sees it: other accounts' buckets are refused. */
  store: AccountObjectStore;
  /** The 12-digit account the request acts for. */
  account: string;
  requestId: string;
  /** The region the request was signed for (us-east-1 when unsigned). */
  region: string;
  /** What request documents held in memory count against. */
  bodyBudget: BufferedBodyBudget;
  /** `http://host[:port]` as the client addressed us, for Location values. */
  origin: string;
  /** The decoded, integrity-checked body; read it at most once. */
  payload(): Payload;
}

export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
/**
 * The S3 owner element of an account's buckets and objects: a canonical user id (64 hex digits, as
 * S3's are) that is the same for the account every time, and the account id as its display name.
 */
export function canonicalUser(account: string): { ID: string; DisplayName: string } {
  return { ID: createHash('sha256').update(`doppel canonical user ${account}`).digest('hex'), DisplayName: account };
}
/** Request documents are small (CompleteMultipartUpload with 10,000 parts is under 1 MB). */
const MAX_XML_BODY_BYTES = 2 * 1024 * 1024;

export function bucketOf(call: S3Call): string {
  if (call.address.bucket === undefined) throw invalidRequest('This operation needs a bucket.');
  return call.address.bucket;
}

export function keyOf(call: S3Call): string {
  if (call.address.key === undefined) throw invalidRequest('This operation needs an object key.');
  return call.address.key;
}

/** The body as text, within the XML size limit and, while it is read, the shared body budget. */
export async function readTextBody(call: S3Call): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of call.payload().body) {
      if (size + chunk.byteLength > MAX_XML_BODY_BYTES) throw maxMessageLengthExceeded();
      if (!call.bodyBudget.tryTake(chunk.byteLength)) throw new BodyBudgetExhausted(call.bodyBudget.limitBytes, false);
      size += chunk.byteLength;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    call.bodyBudget.give(size);
  }
}

/** The body parsed as an XML document with root `root` (see s3-xml.ts). */
export async function readXmlBody(call: S3Call, root: string, repeated: readonly string[] = []) {
  return parseXml(await readTextBody(call), root, repeated);
}
