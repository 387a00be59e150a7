import { join } from 'node:path';
import type { DiskReserve } from './disk-reserve.js';
import type { ObjectStore } from './object-store.js';
import { LocalObjectStore } from './local/local-object-store.js';
import { S3ObjectStore, s3StoreConfigFrom } from './s3/s3-object-store.js';

/**
 * The embedded store under the data dir, unless DOPPEL_S3_ENDPOINT points doppel at an external
 * S3-compatible service. `removeLeftovers` (default true) is for the server, which owns the data
 * dir; its task processes share the embedded store and pass false (see LocalObjectStore.open).
 * `defaultBucketOwner` is the account that owns the buckets no owner is recorded for: every
 * bucket of an external store, and those of an embedded store written before buckets had owners.
 * `reserve` is the data dir's disk reserve (see DiskReserve).
 */
export async function createObjectStore(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  options: { removeLeftovers?: boolean; defaultBucketOwner: string; reserve?: DiskReserve },
): Promise<ObjectStore> {
  const external = s3StoreConfigFrom(env);
  if (external) return new S3ObjectStore(external, options.defaultBucketOwner);
  return LocalObjectStore.open(join(dataDir, 'objects'), options);
}
