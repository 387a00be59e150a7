import { GlueClient, GetMLTransformsCommand } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';

/** What the user signed in with; kept in sessionStorage, so it lasts as long as the tab. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface Session {
  credentials: Credentials;
  glue: GlueClient;
  s3: S3Client;
  /** Prefix of this user's localStorage keys: work saved by one access key is never shown to another. */
  storagePrefix: string;
}

const SESSION_KEY = 'doppel-ui:credentials';

function clients(credentials: Credentials): Session {
  // The UI is served by the server it calls: the page's origin is the Glue and S3 endpoint.
  const endpoint = window.location.origin;
  const config = {
    endpoint,
    region: credentials.region,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    maxAttempts: 1,
  };
  return {
    credentials,
    glue: new GlueClient(config),
    // Path-style addressing: the bucket is in the path, so every call stays on this origin.
    s3: new S3Client({ ...config, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    storagePrefix: `doppel-ui:${credentials.accessKeyId}:`,
  };
}

/**
 * Signs in: the credentials are kept only once the server accepted a signed call with them
 * (GetMLTransforms), so wrong ones are refused here, with the server's reason.
 */
export async function signIn(credentials: Credentials): Promise<Session> {
  const session = clients(credentials);
  await session.glue.send(new GetMLTransformsCommand({ MaxResults: 1 }));
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(credentials));
  return session;
}

export function restoreSession(): Session | undefined {
  const saved = sessionStorage.getItem(SESSION_KEY);
  return saved ? clients(JSON.parse(saved) as Credentials) : undefined;
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

/** JSON kept in localStorage under this user's prefix. */
export function loadLocal<T>(session: Session, key: string): T | undefined {
  const text = localStorage.getItem(session.storagePrefix + key);
  return text ? (JSON.parse(text) as T) : undefined;
}

export function saveLocal(session: Session, key: string, value: unknown): void {
  localStorage.setItem(session.storagePrefix + key, JSON.stringify(value));
}

export function removeLocal(session: Session, key: string): void {
  localStorage.removeItem(session.storagePrefix + key);
}
