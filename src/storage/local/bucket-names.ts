import { invalidBucketName } from './store-errors.js';

/**
 * S3's general-purpose bucket naming rules: 3-63 characters of lower-case letters, digits, dots and
 * hyphens, starting and ending with a letter or digit, no two adjacent dots, not shaped like an IPv4
 * address, and none of the prefixes/suffixes AWS reserves. Throws InvalidBucketName.
 */
export function assertValidBucketName(bucket: string): void {
  const fail = (why: string) => {
    throw invalidBucketName(bucket, why);
  };
  if (bucket.length < 3 || bucket.length > 63) fail('a bucket name has 3 to 63 characters');
  if (!/^[a-z0-9.-]+$/.test(bucket)) fail('only lower-case letters, digits, dots and hyphens are allowed');
  if (!/^[a-z0-9].*[a-z0-9]$/.test(bucket)) fail('a bucket name starts and ends with a letter or digit');
  if (bucket.includes('..')) fail('two adjacent dots are not allowed');
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bucket)) fail('a bucket name cannot look like an IP address');
  for (const prefix of RESERVED_PREFIXES) if (bucket.startsWith(prefix)) fail(`the prefix '${prefix}' is reserved`);
  for (const suffix of RESERVED_SUFFIXES) if (bucket.endsWith(suffix)) fail(`the suffix '${suffix}' is reserved`);
}

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];
