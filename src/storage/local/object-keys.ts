/**
 * Object keys are opaque byte strings to the store: kept in the index as their UTF-8 bytes (SQLite
 * compares BLOBs with memcmp, which is S3's listing order) and never used to build a path.
 */
import { invalidArgument, keyTooLong } from './store-errors.js';

/** S3's limit on a key's UTF-8 encoding. */
export const MAX_KEY_BYTES = 1024;

/** A lone UTF-16 surrogate: its UTF-8 encoding would be lossy, so the key could not round-trip. */
const LONE_SURROGATE = /\p{Cs}/u;

/** The key's UTF-8 bytes, or KeyTooLongError / InvalidArgument. */
export function keyBytes(key: string): Buffer {
  if (typeof key !== 'string' || key.length === 0) throw invalidArgument('An object key must not be empty.');
  if (LONE_SURROGATE.test(key)) throw invalidArgument('An object key must be valid Unicode (it has a lone surrogate).');
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length > MAX_KEY_BYTES) throw keyTooLong(bytes.length, MAX_KEY_BYTES);
  return bytes;
}

/** A prefix, delimiter or start-after value as bytes; unlike keys these may be empty or longer than a key. */
export function textBytes(text: string): Buffer {
  if (LONE_SURROGATE.test(text)) throw invalidArgument('Listing parameters must be valid Unicode.');
  return Buffer.from(text, 'utf8');
}

/** The smallest byte string greater than `bytes`: `bytes` followed by a zero byte. */
export function successorOf(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, ZERO_BYTE]);
}

/**
 * The smallest byte string greater than every string that starts with `prefix`, or undefined when
 * there is none (the empty prefix, or one made only of 0xff bytes).
 */
export function prefixUpperBound(prefix: Buffer): Buffer | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const bound = Buffer.from(prefix.subarray(0, end));
  bound[end - 1] = prefix[end - 1]! + 1;
  return bound;
}

const ZERO_BYTE = Buffer.from([0]);
