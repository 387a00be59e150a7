/**
 * How doppel reaches an external S3-compatible service, read from the environment. Nothing here
 * talks to the network: a bad value is reported at start-up, naming the variable to fix.
 */
export interface S3StoreConfig {
  /** http(s) URL of the service, e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Buckets in the path (http://host/bucket/key) instead of the host name; most self-hosted servers need it. */
  forcePathStyle: boolean;
}

/** Undefined unless DOPPEL_S3_ENDPOINT is set: then doppel keeps its objects in that service. */
export function s3StoreConfigFrom(env: NodeJS.ProcessEnv): S3StoreConfig | undefined {
  const endpoint = valueOf(env, 'DOPPEL_S3_ENDPOINT');
  if (endpoint === undefined) return undefined;
  return {
    endpoint: checkedEndpoint(endpoint),
    region: checkedRegion(valueOf(env, 'DOPPEL_S3_REGION') ?? 'us-east-1'),
    ...credentialsFrom(env),
    forcePathStyle: booleanFrom(env, 'DOPPEL_S3_FORCE_PATH_STYLE', true),
  };
}

/** An empty variable counts as unset, as shells make it easy to export one by accident. */
function valueOf(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function checkedEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`DOPPEL_S3_ENDPOINT must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`DOPPEL_S3_ENDPOINT must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`);
  }
  if (url.search || url.hash) {
    throw new Error(`DOPPEL_S3_ENDPOINT must not carry a query or fragment, got ${JSON.stringify(endpoint)}`);
  }
  return endpoint.replace(/\/+$/, '');
}

function checkedRegion(region: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region)) {
    throw new Error(`DOPPEL_S3_REGION must look like a region name (e.g. us-east-1), got ${JSON.stringify(region)}`);
  }
  return region;
}

/**
 * The DOPPEL_S3_* pair when either of its variables is set, otherwise the standard AWS_* pair.
 * Keys are never mixed across the two sources: half of one pair and half of the other is a
 * configuration mistake worth reporting.
 */
function credentialsFrom(env: NodeJS.ProcessEnv): Pick<S3StoreConfig, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'> {
  const own = ['DOPPEL_S3_ACCESS_KEY_ID', 'DOPPEL_S3_SECRET_ACCESS_KEY'].some((name) => valueOf(env, name) !== undefined);
  const prefix = own ? 'DOPPEL_S3_' : 'AWS_';
  const accessKeyId = valueOf(env, `${prefix}ACCESS_KEY_ID`);
  const secretAccessKey = valueOf(env, `${prefix}SECRET_ACCESS_KEY`);
  const sessionToken = valueOf(env, `${prefix}SESSION_TOKEN`);
  if (accessKeyId === undefined) {
    throw new Error(
      own
        ? 'DOPPEL_S3_SECRET_ACCESS_KEY is set but DOPPEL_S3_ACCESS_KEY_ID is missing'
        : 'DOPPEL_S3_ENDPOINT is set but no access key is: set DOPPEL_S3_ACCESS_KEY_ID and DOPPEL_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
    );
  }
  if (secretAccessKey === undefined) {
    throw new Error(`${prefix}ACCESS_KEY_ID is set but ${prefix}SECRET_ACCESS_KEY is missing`);
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
}

function booleanFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = valueOf(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  throw new Error(`${name} must be true or false (or 1 / 0), got ${JSON.stringify(value)}`);
}
