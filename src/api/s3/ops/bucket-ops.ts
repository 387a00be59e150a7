/** ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation. */
import { ObjectStoreError } from '../../../storage/object-store.js';
import { canonicalUser, bucketOf, readTextBody, type S3Call } from '../s3-call.js';
import { invalidArgument, notImplemented } from '../s3-errors.js';
import { decodeContinuationToken, encodeContinuationToken } from './list-ops.js';
import { emptyResponse, isoDate, xmlResponse } from '../s3-response.js';
import { parseXml } from '../s3-xml.js';

/** ListBuckets' page-size limit (max-buckets). */
const MAX_BUCKETS = 10_000;

/**
 * ListBuckets in name order, filtered by `prefix`; `max-buckets` pages it with a continuation token
 * (opaque to clients: the name the page ended on). `bucket-region` is not applied: doppel does not
 * keep a region per bucket.
 */
export async function listBuckets(call: S3Call): Promise<Response> {
  const { query } = call.address;
  const prefix = query.get('prefix') ?? '';
  const maxText = query.get('max-buckets');
  if (maxText !== undefined && !(/^\d{1,5}$/.test(maxText) && Number(maxText) >= 1 && Number(maxText) <= MAX_BUCKETS)) {
    throw invalidArgument(`max-buckets must be an integer from 1 to ${MAX_BUCKETS}`, {
      ArgumentName: 'max-buckets',
      ArgumentValue: maxText,
    });
  }
  const token = query.get('continuation-token');
  const after = token !== undefined ? decodeContinuationToken(token) : undefined;
  const matching = (await call.store.listBuckets())
    .filter((bucket) => bucket.name.startsWith(prefix) && (after === undefined || bucket.name > after))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = maxText !== undefined ? matching.slice(0, Number(maxText)) : matching;
  const truncated = page.length < matching.length;
  return xmlResponse('ListAllMyBucketsResult', {
    Owner: canonicalUser(call.account),
    Buckets: { Bucket: page.map((bucket) => ({ Name: bucket.name, CreationDate: isoDate(bucket.createdOn) })) },
    ContinuationToken: truncated ? encodeContinuationToken(page[page.length - 1]!.name) : undefined,
    Prefix: query.get('prefix'),
  });
}

/**
 * A CreateBucketConfiguration body (LocationConstraint) is checked for well-formedness and ignored.
 * Creating a bucket one owns already answers BucketAlreadyOwnedByYou, except in us-east-1, where
 * S3 answers 200 for legacy compatibility; another account's bucket is BucketAlreadyExists.
 */
export async function createBucket(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  // Object lock needs versioning to keep locked versions, which doppel does not have.
  if (call.headers['x-amz-bucket-object-lock-enabled']?.toLowerCase() === 'true') {
    throw notImplemented('object lock (x-amz-bucket-object-lock-enabled)');
  }
  const body = await readTextBody(call);
  if (body.trim() !== '') parseXml(body, 'CreateBucketConfiguration');
  try {
    await call.store.createBucket(bucket, call.account);
  } catch (e) {
    const ownAgain = e instanceof ObjectStoreError && e.code === 'BucketAlreadyOwnedByYou';
    if (!(ownAgain && call.region === 'us-east-1')) throw e;
  }
  return emptyResponse(200, { location: `/${bucket}` });
}

export async function deleteBucket(call: S3Call): Promise<Response> {
  await call.store.deleteBucket(bucketOf(call));
  return emptyResponse(204);
}

/** Buckets have no region of their own: every bucket answers in the region the caller signed for. */
export async function headBucket(call: S3Call): Promise<Response> {
  await requireBucket(call);
  return emptyResponse(200, { 'x-amz-bucket-region': call.region });
}

export async function getBucketLocation(call: S3Call): Promise<Response> {
  await requireBucket(call);
  // us-east-1 is spelled as an empty LocationConstraint, for historical reasons.
  return xmlResponse('LocationConstraint', call.region === 'us-east-1' ? {} : { '#text': call.region });
}

async function requireBucket(call: S3Call): Promise<void> {
  await call.store.requireBucket(bucketOf(call));
}
