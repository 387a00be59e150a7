/**
 * The S3-compatible REST endpoint over an ObjectStore, served on the Glue API's port: the HTTP
 * front sends it every request that is not a Glue call, with the raw request target.
 *
 * A request goes: address (bucket, key; path or virtual-hosted style) → SigV4 (service `s3`, the
 * server's credentials) → operation (method + sub-resource) → bucket access (the signer's account
 * must own the addressed bucket) → handler. Bodies stream from the socket into the store and from
 * the store to the socket; none is held in memory whole.
 */
import { randomBytes } from 'node:crypto';
import type { CredentialRegistry } from '../auth/credentials.js';
import { AccountObjectStore } from '../../storage/account-object-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { BufferedBodyBudget } from '../request-body.js';
import { authenticateS3, type S3Authentication } from './s3-auth.js';
import type { S3Call } from './s3-call.js';
import { S3Error, toS3Error } from './s3-errors.js';
import { errorResponse } from './s3-response.js';
import { parseAddress, resolveOperation, type S3Address, type S3Operation } from './s3-routing.js';
import { requestPayload } from './payload/request-payload.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './ops/bucket-ops.js';
import { deleteObjects } from './ops/delete-objects.js';
import { listObjects, listObjectsV2 } from './ops/list-ops.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listParts,
  listMultipartUploads,
  uploadPart,
  uploadPartCopy,
} from './ops/multipart-ops.js';
import { copyObject, deleteObject, getObject, headObject, putObject } from './ops/object-ops.js';
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './ops/tagging-ops.js';
import type { Log } from '../../core/log.js';

export interface S3EndpointOptions {
  store: ObjectStore;
  credentials: CredentialRegistry;
  noAuth: boolean;
  log: Log;
  /**
   * Largest body read into memory to verify a signed request that declares no
   * x-amz-content-sha256 (S3 SDKs always declare one). Default 16 MiB.
   */
  maxUnhashedBodyBytes?: number;
  /** What bodies held in memory (those, and XML request documents) count against. */
  bodyBudget: BufferedBodyBudget;
}

const DEFAULT_MAX_UNHASHED_BODY_BYTES = 16 * 1024 * 1024;
const DEFAULT_REGION = 'us-east-1';

const OPERATIONS: Record<S3Operation, (call: S3Call) => Promise<Response>> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  DeleteBucket: deleteBucket,
  HeadBucket: headBucket,
  GetBucketLocation: getBucketLocation,
  ListObjectsV2: listObjectsV2,
  ListObjects: listObjects,
  DeleteObjects: deleteObjects,
  PutObject: putObject,
  CopyObject: copyObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
};

/** Error codes about a bucket or key name that S3 answers with that name in the document. */
const NAMES_BUCKET = new Set([
  'NoSuchBucket',
  'BucketNotEmpty',
  'BucketAlreadyOwnedByYou',
  'BucketAlreadyExists',
  'InvalidBucketName',
]);
const NAMES_KEY = new Set(['NoSuchKey', 'KeyTooLongError']);

export function s3Endpoint(opts: S3EndpointOptions): (request: Request, rawUrl: string) => Promise<Response> {
  const authOptions = {
    credentials: opts.credentials,
    noAuth: opts.noAuth,
    maxUnhashedBodyBytes: opts.maxUnhashedBodyBytes ?? DEFAULT_MAX_UNHASHED_BODY_BYTES,
    bodyBudget: opts.bodyBudget,
  };
  return async function handleS3Request(request: Request, rawUrl: string): Promise<Response> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const headers = headerRecord(request.headers);
    let address: S3Address | undefined;
    let response: Response;
    let auth: S3Authentication | undefined;
    try {
      address = parseAddress(rawUrl, headers['host']);
      auth = await authenticateS3(request, address, headers, authOptions);
      const operation = resolveOperation(request.method, address, headers);
      const store = new AccountObjectStore(opts.store, auth.accountId);
      // Before any body is read, as S3 refuses another account's bucket first.
      if (address.bucket !== undefined && operation !== 'CreateBucket') await store.requireAccess(address.bucket);
      let payloadTaken = false;
      const plan = auth.plan;
      const call: S3Call = {
        operation,
        method: request.method,
        address,
        headers,
        store,
        account: auth.accountId,
        requestId,
        region: auth.region ?? DEFAULT_REGION,
        bodyBudget: opts.bodyBudget,
        origin: `http://${headers['host'] ?? 'localhost'}`,
        payload: () => {
          if (payloadTaken) throw new Error('the request body was read twice');
          payloadTaken = true;
          return requestPayload(request, headers, plan, {
            checksumHeadersDescribeBody: operation !== 'CompleteMultipartUpload',
          });
        },
      };
      response = await OPERATIONS[operation](call);
    } catch (e) {
      const error = withNames(
        toS3Error(e, { presigned: /(^|&)X-Amz-Credential=/.test(address?.rawQuery ?? '') }),
        address,
        headers['range'],
      );
      if (error.status >= 500) {
        opts.log(`S3 request ${requestId} (${request.method} ${rawUrl}) failed: ${(e as Error)?.stack ?? String(e)}`, { level: 'error', requestId });
      }
      response = errorResponse(error, request.method, address?.rawPath ?? '/', requestId);
    } finally {
      auth?.release();
    }
    response.headers.set('x-amz-request-id', requestId);
    response.headers.set('x-amz-id-2', randomBytes(24).toString('base64'));
    response.headers.set('server', 'doppel');
    return response;
  };
}

function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    record[name.toLowerCase()] = value;
  });
  return record;
}

function withNames(error: S3Error, address: S3Address | undefined, range: string | undefined): S3Error {
  const details = { ...error.details };
  if (address?.bucket !== undefined && (NAMES_BUCKET.has(error.code) || NAMES_KEY.has(error.code))) {
    details['BucketName'] = address.bucket;
  }
  // The missing key is not always the addressed one: a copy names its source key.
  if (address?.key !== undefined && NAMES_KEY.has(error.code)) details['Key'] ??= address.key;
  if (error.code === 'NoSuchUpload') {
    const uploadId = address?.query.get('uploadId');
    if (uploadId !== undefined) details['UploadId'] = uploadId;
  }
  if (error.code === 'InvalidRange' && range !== undefined) details['RangeRequested'] = range;
  return new S3Error(error.code, error.message, error.status, details);
}
