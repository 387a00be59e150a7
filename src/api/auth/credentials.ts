/**
 * The credential registry: which access keys may sign requests, their secrets, and the account each
 * one acts in (resources are owned per account + region, and ARNs carry the account id).
 *
 * Configuration, in order of precedence over the built-in default:
 *   DOPPEL_CREDENTIALS       `AKID:SECRET[:ACCOUNT][,AKID:SECRET[:ACCOUNT]...]`
 *   DOPPEL_CREDENTIALS_FILE  path to a JSON array of {accessKeyId, secretAccessKey, accountId?}
 * Either (or both, merged) replaces the default `test`/`test` → 123456789012 pair, so a deployment that
 * configures its own keys does not also accept the well-known test key.
 */
import { readFileSync } from 'node:fs';

export const DEFAULT_ACCOUNT_ID = '123456789012';

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** 12 digits. */
  accountId: string;
}

export interface CredentialRegistry {
  lookup(accessKeyId: string): Credential | undefined;
  /** Configured access key ids (never secrets), e.g. for a startup log line. */
  accessKeyIds(): string[];
  /** True when no configuration was given and only the default test/test pair is accepted. */
  readonly isDefault: boolean;
  /** The account of the first configured credential. */
  readonly firstAccountId: string;
}

export const DEFAULT_CREDENTIAL: Readonly<Credential> = Object.freeze({
  accessKeyId: 'test',
  secretAccessKey: 'test',
  accountId: DEFAULT_ACCOUNT_ID,
});

/**
 * Builds the registry from the environment. Throws an Error whose message names the variable, the
 * entry and the problem (the CLI prints it and exits non-zero). Secrets never appear in messages.
 */
export function loadCredentials(env: NodeJS.ProcessEnv): CredentialRegistry {
  const inline = env['DOPPEL_CREDENTIALS']?.trim() ?? '';
  const filePath = env['DOPPEL_CREDENTIALS_FILE']?.trim() ?? '';
  if (inline === '' && filePath === '') return createCredentialRegistry([DEFAULT_CREDENTIAL], true);

  const sourced: SourcedCredential[] = [];
  if (inline !== '') sourced.push(...parseInlineCredentials(inline));
  if (filePath !== '') sourced.push(...readCredentialsFile(filePath));
  rejectDuplicateKeys(sourced);
  return createCredentialRegistry(sourced.map((entry) => entry.credential));
}

/** A registry over a fixed list (tests and embedders use this directly). */
export function createCredentialRegistry(
  credentials: readonly Credential[],
  isDefault = false,
): CredentialRegistry {
  const byKey = new Map(credentials.map((credential) => [credential.accessKeyId, { ...credential }]));
  return {
    lookup: (accessKeyId) => byKey.get(accessKeyId),
    accessKeyIds: () => [...byKey.keys()],
    isDefault,
    firstAccountId: credentials[0]?.accountId ?? DEFAULT_ACCOUNT_ID,
  };
}

/** A parsed credential plus where it came from, for error messages. */
interface SourcedCredential {
  credential: Credential;
  origin: string;
}

const INLINE_FORMAT = 'ACCESS_KEY_ID:SECRET_ACCESS_KEY[:ACCOUNT_ID]';

function parseInlineCredentials(text: string): SourcedCredential[] {
  return text.split(',').map((rawEntry, index) => {
    const entry = rawEntry.trim();
    const origin = `DOPPEL_CREDENTIALS entry ${index + 1}`;
    if (entry === '') {
      throw new Error(`${origin} is empty (stray ','?); expected ${INLINE_FORMAT}`);
    }
    const fields = entry.split(':');
    if (fields.length < 2 || fields.length > 3) {
      const hint = fields.length > 3 ? "; a secret containing ':' must go in DOPPEL_CREDENTIALS_FILE" : '';
      throw new Error(`${origin} has ${fields.length} ':'-separated fields, expected ${INLINE_FORMAT}${hint}`);
    }
    const [accessKeyId, secretAccessKey, accountId] = fields as [string, string, string | undefined];
    return { origin, credential: validateCredential({ accessKeyId, secretAccessKey, accountId }, origin) };
  });
}

const FILE_FIELDS = new Set(['accessKeyId', 'secretAccessKey', 'accountId']);

function readCredentialsFile(path: string): SourcedCredential[] {
  const source = `DOPPEL_CREDENTIALS_FILE ${JSON.stringify(path)}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${source} cannot be read: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(document) || document.length === 0) {
    throw new Error(
      `${source} must contain a non-empty JSON array of {"accessKeyId", "secretAccessKey", "accountId"} objects`,
    );
  }
  return document.map((item: unknown, index) => {
    const origin = `${source} entry ${index + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new Error(`${origin} must be an object with "accessKeyId", "secretAccessKey" and optional "accountId"`);
    }
    const record = item as Record<string, unknown>;
    const unknownFields = Object.keys(record).filter((field) => !FILE_FIELDS.has(field));
    if (unknownFields.length > 0) {
      throw new Error(
        `${origin} has unknown field${unknownFields.length > 1 ? 's' : ''} ${unknownFields.map((f) => JSON.stringify(f)).join(', ')} (allowed: accessKeyId, secretAccessKey, accountId)`,
      );
    }
    for (const field of ['accessKeyId', 'secretAccessKey'] as const) {
      if (typeof record[field] !== 'string') throw new Error(`${origin}: "${field}" must be a string`);
    }
    if (record['accountId'] !== undefined && typeof record['accountId'] !== 'string') {
      // A JSON number would silently lose leading zeros (000000000000 → 0).
      throw new Error(`${origin}: "accountId" must be a string of 12 digits (quote it)`);
    }
    const credential = validateCredential(
      {
        accessKeyId: record['accessKeyId'] as string,
        secretAccessKey: record['secretAccessKey'] as string,
        accountId: record['accountId'] as string | undefined,
      },
      origin,
    );
    return { origin, credential };
  });
}

// Real access key ids are [A-Z0-9]{16,128}; we also allow the lower-case and punctuation that local
// setups like (`test`, `dev-alice`) but nothing that could break the credential scope (`/`) or the
// Authorization header (`,`, `=`, spaces).
const ACCESS_KEY_ID = /^[A-Za-z0-9_.-]{1,128}$/;
const ACCOUNT_ID = /^\d{12}$/;

function validateCredential(
  entry: { accessKeyId: string; secretAccessKey: string; accountId: string | undefined },
  origin: string,
): Credential {
  if (!ACCESS_KEY_ID.test(entry.accessKeyId)) {
    throw new Error(
      `${origin}: access key id ${JSON.stringify(entry.accessKeyId)} must be 1-128 letters, digits, '_', '.' or '-'`,
    );
  }
  const where = `${origin} (access key ${JSON.stringify(entry.accessKeyId)})`;
  if (entry.secretAccessKey === '') throw new Error(`${where}: secret access key is empty`);
  if (/[\s\p{Cc}]/u.test(entry.secretAccessKey)) {
    throw new Error(`${where}: secret access key contains whitespace or control characters`);
  }
  if (entry.accountId !== undefined && !ACCOUNT_ID.test(entry.accountId)) {
    throw new Error(`${where}: account id ${JSON.stringify(entry.accountId)} must be exactly 12 digits`);
  }
  return {
    accessKeyId: entry.accessKeyId,
    secretAccessKey: entry.secretAccessKey,
    accountId: entry.accountId ?? DEFAULT_ACCOUNT_ID,
  };
}

/** Two secrets for one key would make verification depend on which one wins; refuse instead. */
function rejectDuplicateKeys(entries: readonly SourcedCredential[]): void {
  const firstOrigin = new Map<string, string>();
  for (const { credential, origin } of entries) {
    const earlier = firstOrigin.get(credential.accessKeyId);
    if (earlier !== undefined) {
      throw new Error(
        `access key ${JSON.stringify(credential.accessKeyId)} is configured twice (${earlier} and ${origin})`,
      );
    }
    firstOrigin.set(credential.accessKeyId, origin);
  }
}
