/** ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation. */
import { DEFAULT_BUCKET_REGION, ObjectStoreError, type BucketInfo } from '../../../storage/object-store.js';
import { canonicalUser, bucketOf, readTextBody, type S3Call } from '../s3-call.js';
import { invalidArgument, notImplemented, S3Error } from '../s3-errors.js';
import { decodeContinuationToken, encodeContinuationToken } from './list-ops.js';
import { emptyResponse, isoDate, xmlResponse } from '../s3-response.js';
import { parseXml, textOf } from '../s3-xml.js';

/** ListBuckets' page-size limit (max-buckets). */
const MAX_BUCKETS = 10_000;

/**
 * ListBuckets in name order, filtered by `prefix` and `bucket-region`; `max-buckets` pages it with
 * a continuation token (opaque to clients: the name the page ended on).
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
  const region = query.get('bucket-region');
  const matching = (await call.store.listBuckets())
    .filter(
      (bucket) =>
        bucket.name.startsWith(prefix) &&
        (after === undefined || bucket.name > after) &&
        (region === undefined || regionOf(bucket) === region),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = maxText !== undefined ? matching.slice(0, Number(maxText)) : matching;
  const truncated = page.length < matching.length;
  return xmlResponse('ListAllMyBucketsResult', {
    Owner: canonicalUser(call.account),
    Buckets: {
      Bucket: page.map((bucket) => ({ Name: bucket.name, CreationDate: isoDate(bucket.createdOn), BucketRegion: regionOf(bucket) })),
    },
    ContinuationToken: truncated ? encodeContinuationToken(page[page.length - 1]!.name) : undefined,
    Prefix: query.get('prefix'),
  });
}

/**
 * CreateBucket in the region S3 would create it in (see bucketRegion). Creating a bucket one owns
 * already answers BucketAlreadyOwnedByYou, except a us-east-1 bucket created again through
 * us-east-1, which S3 answers 200 for legacy compatibility; another account's bucket is
 * BucketAlreadyExists.
 */
export async function createBucket(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  // Object lock needs versioning to keep locked versions, which doppel does not have.
  if (call.headers['x-amz-bucket-object-lock-enabled']?.toLowerCase() === 'true') {
    throw notImplemented('object lock (x-amz-bucket-object-lock-enabled)');
  }
  const body = await readTextBody(call);
  const constraint = body.trim() !== '' ? textOf(parseXml(body, 'CreateBucketConfiguration'), 'LocationConstraint') : undefined;
  const region = bucketRegion(call.region, constraint?.trim() || undefined);
  checkNamespace(call, bucket, region);
  try {
    await call.store.createBucket(bucket, call.account, region === DEFAULT_BUCKET_REGION ? undefined : region);
  } catch (e) {
    const ownAgain = e instanceof ObjectStoreError && e.code === 'BucketAlreadyOwnedByYou';
    const existing = ownAgain && region === DEFAULT_BUCKET_REGION ? await call.store.bucketInfo(bucket) : undefined;
    if (!(existing && regionOf(existing) === DEFAULT_BUCKET_REGION)) throw e;
  }
  return emptyResponse(200, { location: `/${bucket}` });
}

/** Region codes as S3 spells them (us-east-1, eu-central-1, us-gov-west-1, ap-southeast-5, ...). */
const REGION_CODE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * The region a CreateBucket request creates its bucket in, by S3's rules: the request's endpoint is
 * the region it was signed for; through us-east-1 a LocationConstraint names any other region (or
 * none: us-east-1; naming us-east-1 itself is InvalidLocationConstraint); through any other region
 * the LocationConstraint must name that region (IllegalLocationConstraintException otherwise).
 * `EU` is the old name of eu-west-1.
 */
function bucketRegion(endpointRegion: string, constraint: string | undefined): string {
  if (endpointRegion !== DEFAULT_BUCKET_REGION) {
    const named = constraint === 'EU' ? 'eu-west-1' : constraint;
    if (named !== endpointRegion) {
      throw new S3Error(
        'IllegalLocationConstraintException',
        `The ${constraint ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`,
        400,
      );
    }
    return endpointRegion;
  }
  if (constraint === undefined) return DEFAULT_BUCKET_REGION;
  if (constraint === 'EU') return 'eu-west-1';
  if (constraint === DEFAULT_BUCKET_REGION || !REGION_CODE.test(constraint)) {
    throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, {
      LocationConstraint: constraint,
    });
  }
  return constraint;
}

/**
 * x-amz-bucket-namespace: `global` (the default) or `account-regional`, whose bucket names end with
 * the creator's account id, the bucket's region and `-an` (S3's InvalidNamespaceHeader otherwise).
 * doppel's bucket names are one namespace per server either way; the suffix keeps them apart.
 */
function checkNamespace(call: S3Call, bucket: string, region: string): void {
  const namespace = call.headers['x-amz-bucket-namespace'];
  if (namespace === undefined || namespace === 'global') return;
  if (namespace !== 'account-regional') {
    throw invalidArgument('x-amz-bucket-namespace must be global or account-regional', {
      ArgumentName: 'x-amz-bucket-namespace',
      ArgumentValue: namespace,
    });
  }
  const suffix = `-${call.account}-${region}-an`;
  if (!bucket.endsWith(suffix) || bucket.length === suffix.length) {
    throw new S3Error(
      'InvalidNamespaceHeader',
      `A bucket in the account-regional namespace needs a name ending with ${suffix} (the account, then the bucket's region).`,
      400,
    );
  }
}

export async function deleteBucket(call: S3Call): Promise<Response> {
  await call.store.deleteBucket(bucketOf(call));
  return emptyResponse(204);
}

export async function headBucket(call: S3Call): Promise<Response> {
  const bucket = await call.store.requireBucket(bucketOf(call));
  return emptyResponse(200, { 'x-amz-bucket-region': regionOf(bucket) });
}

export async function getBucketLocation(call: S3Call): Promise<Response> {
  const region = regionOf(await call.store.requireBucket(bucketOf(call)));
  // us-east-1 is spelled as an empty LocationConstraint, for historical reasons.
  return xmlResponse('LocationConstraint', region === DEFAULT_BUCKET_REGION ? {} : { '#text': region });
}

const regionOf = (bucket: BucketInfo): string => bucket.region ?? DEFAULT_BUCKET_REGION;
