// PLACEHOLDER, replaced by the external S3 adapter.
import type { ObjectStore } from '../object-store.js';

export interface S3StoreConfig {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  forcePathStyle: boolean;
}

export function s3StoreConfigFrom(_env: NodeJS.ProcessEnv): S3StoreConfig | undefined {
  return undefined;
}

export class S3ObjectStore {
  constructor(_config: S3StoreConfig) {
    throw new Error('the external S3 adapter is not built yet');
  }
}
export type _Unused = ObjectStore;
