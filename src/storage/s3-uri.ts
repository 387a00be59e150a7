/** An s3://bucket/key URI, split. The key may be empty (the whole bucket) or name a prefix. */
export interface S3Location {
  bucket: string;
  key: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export class S3UriError extends Error {}

export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]*)\/?(.*)$/s.exec(uri);
  if (!m) throw new S3UriError(`${uri} is not an S3 URI (expected s3://bucket/key)`);
  const bucket = m[1]!;
  if (!BUCKET.test(bucket)) throw new S3UriError(`${uri}: '${bucket}' is not a valid bucket name`);
  return { bucket, key: m[2]! };
}

export const formatS3Uri = (l: S3Location) => `s3://${l.bucket}/${l.key}`;

/** A key prefix that names a "folder": empty, or ending in exactly one slash. */
export function asPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}
