import type { ListOptions, ObjectInfo, ObjectStore } from './object-store.js';
import { asPrefix, formatS3Uri, type S3Location } from './s3-uri.js';

/**
 * The objects a location stands for, the way Glue reads input paths: the object itself when the key
 * names one, otherwise the data objects under the key as a prefix (see isDataObject), in key order.
 */
export async function dataObjectsAt(store: ObjectStore, at: S3Location): Promise<ObjectInfo[]> {
  if (at.key !== '' && !at.key.endsWith('/')) {
    const single = await store.headObject(at.bucket, at.key);
    if (single) return [single];
  }
  const prefix = asPrefix(at.key);
  const found: ObjectInfo[] = [];
  for await (const o of listed(store, at.bucket, { prefix })) if (isDataObject(o, o.key.slice(prefix.length))) found.push(o);
  return found;
}

/** Every object a listing names, page by page. */
async function* listed(store: ObjectStore, bucket: string, options: Omit<ListOptions, 'startAfter' | 'maxKeys'>): AsyncGenerator<ObjectInfo> {
  for (let startAfter: string | undefined; ; ) {
    const page = await store.listObjects(bucket, { ...options, startAfter, maxKeys: 1000 });
    yield* page.objects;
    if (!page.isTruncated || !page.nextStartAfter) return;
    startAfter = page.nextStartAfter;
  }
}

/**
 * Hadoop's rule for what under a prefix is data: not markers (`_SUCCESS`, `…_$folder$`, empty
 * "folder" objects, empty files) and nothing under a hidden (`.` or `_`) path segment.
 */
export function isDataObject(object: { size: number }, relativeKey: string): boolean {
  if (relativeKey === '' || relativeKey.endsWith('/') || object.size === 0) return false;
  if (relativeKey.endsWith('_$folder$')) return false;
  return !relativeKey.split('/').some((segment) => segment.startsWith('.') || segment.startsWith('_'));
}

/** Reads a whole (small) object; fails past `maxBytes`. */
export async function readObject(store: ObjectStore, at: S3Location, maxBytes: number): Promise<Buffer> {
  const { info, body } = await store.getObject(at.bucket, at.key);
  if (info.size > maxBytes) {
    body.destroy();
    throw new Error(`${formatS3Uri(at)} is ${info.size} bytes, more than the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** The part files doppel writes under an output prefix. */
const OUTPUT_PART = /^part-\d{5}\.(csv|json|parquet)$/;

/**
 * Writes output the way doppel always does under a prefix: the part objects first, then an empty
 * `_SUCCESS` marker last, so a reader that sees `_SUCCESS` sees complete output. An earlier
 * output's marker goes first (while the parts are replaced the folder is not complete output), and
 * its part files of other names (it had more parts, or another format) go before the new marker:
 * they would read as part of this output. Nothing else under the prefix is touched, except by
 * `beforeMarker` (given the parts written), which belongs to the output as much as they do.
 */
export async function writeOutput(
  store: ObjectStore,
  at: S3Location,
  parts: Array<{ name: string; body: AsyncIterable<Uint8Array>; contentType: string }>,
  beforeMarker?: (parts: string[]) => Promise<void>,
): Promise<string[]> {
  const prefix = asPrefix(at.key);
  await store.deleteObject(at.bucket, `${prefix}_SUCCESS`);
  const written: string[] = [];
  for (const part of parts) {
    await store.putObject(at.bucket, prefix + part.name, part.body, { contentType: part.contentType });
    written.push(formatS3Uri({ bucket: at.bucket, key: prefix + part.name }));
  }
  const names = new Set(parts.map((p) => p.name));
  for await (const o of listed(store, at.bucket, { prefix, delimiter: '/' })) {
    const name = o.key.slice(prefix.length);
    if (OUTPUT_PART.test(name) && !names.has(name)) await store.deleteObject(at.bucket, o.key);
  }
  await beforeMarker?.(written);
  await store.putObject(at.bucket, `${prefix}_SUCCESS`, (async function* () {})());
  return written;
}
