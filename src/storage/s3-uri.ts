/** An s3://bucket/key URI, split. The key may be empty (the whole bucket) or name a prefix. */
export interface S3Location {
  bucket: string;
  key: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Paths given to Glue's own APIs: `s3://` exactly; the key may hold any character. */
const GLUE_URI = /^s3:\/\/([^/]*)\/?(.*)$/s;
/** Table locations, as Hadoop writers (Spark, Hive) spell them: also s3a:// and s3n://, in any case. */
const HADOOP_URI = /^s3[an]?:\/\/([^/]*)\/?(.*)$/i;

export type S3UriSpelling = 'glue' | 'hadoop';

/**
 * The bucket (possibly empty) and key of an S3 URI, or undefined when `uri` is not one. It checks
 * no bucket name: callers differ in what they accept and how they report it.
 */
export function splitS3Uri(uri: string, spelling: S3UriSpelling = 'glue'): S3Location | undefined {
  const m = (spelling === 'glue' ? GLUE_URI : HADOOP_URI).exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

export class S3UriError extends Error {}

/** A Glue S3 path with a valid bucket name, or an S3UriError saying what is wrong with it. */
export function parseS3Uri(uri: string): S3Location {
  const at = splitS3Uri(uri);
  if (!at) throw new S3UriError(`${uri} is not an S3 URI (expected s3://bucket/key)`);
  if (!BUCKET.test(at.bucket)) throw new S3UriError(`${uri}: '${at.bucket}' is not a valid bucket name`);
  return at;
}

export const formatS3Uri = (l: S3Location) => `s3://${l.bucket}/${l.key}`;

/** A key prefix that names a "folder": empty, or ending in exactly one slash. */
export function asPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}
