/** ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation. */
import { ObjectStoreError } from '../../../storage/object-store.js';
import { canonicalUser, bucketOf, readTextBody, type S3Call } from '../s3-call.js';
import { emptyResponse, isoDate, xmlResponse } from '../s3-response.js';
import { parseXml } from '../s3-xml.js';

export async function listBuckets(call: S3Call): Promise<Response> {
  const buckets = await call.store.listBuckets();
  return xmlResponse('ListAllMyBucketsResult', {
    Owner: canonicalUser(call.account),
    Buckets: { Bucket: buckets.map((bucket) => ({ Name: bucket.name, CreationDate: isoDate(bucket.createdOn) })) },
  });
}

/**
 * A CreateBucketConfiguration body (LocationConstraint) is checked for well-formedness and ignored.
 * Creating a bucket one owns already answers BucketAlreadyOwnedByYou, except in us-east-1, where
 * S3 answers 200 for legacy compatibility; another account's bucket is BucketAlreadyExists.
 */
export async function createBucket(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
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
