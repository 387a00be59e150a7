// PLACEHOLDER, replaced by the S3-compatible REST endpoint.
import type { CredentialRegistry } from '../auth/credentials.js';
import type { ObjectStore } from '../../storage/object-store.js';

export interface S3EndpointOptions {
  store: ObjectStore;
  credentials: CredentialRegistry;
  noAuth: boolean;
  log: (message: string) => void;
}

export function s3Endpoint(_opts: S3EndpointOptions): (request: Request, rawUrl: string) => Promise<Response> {
  return async () => new Response('not built yet', { status: 501 });
}
