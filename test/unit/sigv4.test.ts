/**
 * SigV4 verification against requests signed by the real clients: the JS SDK (@aws-sdk/client-glue,
 * over a real socket) and botocore (python3 subprocess). A local HTTP server records each request
 * exactly as it arrives — raw path, raw query, lower-cased headers, body bytes — which is also what the
 * HTTP layer hands to verifySignature().
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ServiceError } from '../../src/api/errors.js';
import { parseAmzDate } from '../../src/api/auth/amz-date.js';
import { createCredentialRegistry, type CredentialRegistry } from '../../src/api/auth/credentials.js';
import {
  identifyUnverified,
  parseAuthorizationScope,
  verifySignature,
  type SignedRequest,
  type VerifyOptions,
} from '../../src/api/auth/sigv4.js';

const ACCOUNT = '210987654321';
const registry = createCredentialRegistry([{ accessKeyId: 'test', secretAccessKey: 'test', accountId: ACCOUNT }]);
const MINUTE = 60_000;

// ---------------------------------------------------------------------------------------------------
// Capturing real signed requests

interface Recorder {
  endpoint: string;
  requests: SignedRequest[];
  close: () => Promise<void>;
}

/** The raw request, as the HTTP layer must pass it: path and query split from req.url, untouched. */
function toSignedRequest(req: IncomingMessage, body: Buffer): SignedRequest {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return {
    method: req.method ?? 'GET',
    path: mark === -1 ? url : url.slice(0, mark),
    query: mark === -1 ? '' : url.slice(mark + 1),
    headers,
    body: new Uint8Array(body),
  };
}

async function startRecorder(): Promise<Recorder> {
  const requests: SignedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push(toSignedRequest(req, Buffer.concat(chunks)));
      const isGlue = req.headers['x-amz-target'] !== undefined;
      res.writeHead(200, isGlue ? { 'content-type': 'application/x-amz-json-1.1' } : {});
      res.end(isGlue ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface JsCaptures {
  /** CreateMLTransform to `/`, long-term credentials, non-ASCII body. */
  root: SignedRequest;
  /** GetMLTransform to `/prefix/` with a session token. */
  prefixWithToken: SignedRequest;
}

async function captureJsRequests(recorder: Recorder): Promise<JsCaptures> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const { GlueClient, CreateMLTransformCommand, GetMLTransformCommand } = await import('@aws-sdk/client-glue');
  const root = new GlueClient({
    endpoint: recorder.endpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  await root.send(
    new CreateMLTransformCommand({
      Name: 'dédup – 名前',
      Role: 'arn:aws:iam::210987654321:role/glue',
      InputRecordTables: [{ DatabaseName: 'db', TableName: 't' }],
      Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
    }),
  );
  const prefixed = new GlueClient({
    endpoint: `${recorder.endpoint}/prefix`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test', sessionToken: 'FwoGZXIvYXdzEXAMPLE/token+=' },
    maxAttempts: 1,
  });
  await prefixed.send(new GetMLTransformCommand({ TransformId: 'tfm-0123456789abcdef' }));
  root.destroy();
  prefixed.destroy();
  const [first, second] = recorder.requests.slice(-2) as [SignedRequest, SignedRequest];
  return { root: first, prefixWithToken: second };
}

interface BotocoreCaptures {
  /** GetMLTransform to `/`, long-term credentials. */
  root: SignedRequest;
  /** GetMLTransform to `/prefix/` with a session token. */
  prefixWithToken: SignedRequest;
  /** S3 PutObject with a key needing escapes; payload hash in x-amz-content-sha256. */
  s3Put: SignedRequest;
  /** S3 ListObjectsV2 with an encoded query string. */
  s3List: SignedRequest;
  /** `aws s3 presign`-style SigV4 URLs (the second with a session token). */
  presignedGet: SignedRequest;
  presignedGetWithToken: SignedRequest;
}

// Runs inside python3: signs and sends the requests in a fixed order, prints the presigned URLs.
const BOTOCORE_SCRIPT = String.raw`
import json, sys
import botocore.session
from botocore.config import Config
endpoint = sys.argv[1]
session = botocore.session.get_session()
def client(service, url, region, token=None, config=None):
    return session.create_client(service, endpoint_url=url, region_name=region,
        aws_access_key_id='test', aws_secret_access_key='test', aws_session_token=token, config=config)
client('glue', endpoint, 'ap-southeast-2').get_ml_transform(TransformId='tfm-1')
client('glue', endpoint + '/prefix/', 'eu-central-1', token='IQoJb3JpZ2luX2VjEXAMPLE/tok=').get_ml_transform(TransformId='tfm-2')
s3 = client('s3', endpoint, 'eu-west-1', config=Config(signature_version='s3v4'))
s3.put_object(Bucket='bkt', Key='dir/a b+c~\u00fc(1).txt', Body=b'hello world')
s3.list_objects_v2(Bucket='bkt', Prefix='a b/', Delimiter='/')
s3_token = client('s3', endpoint, 'eu-west-1', token='IQoJb3JpZ2luX2VjEXAMPLE/tok=', config=Config(signature_version='s3v4'))
print(json.dumps([
    s3.generate_presigned_url('get_object', Params={'Bucket': 'bkt', 'Key': 'dir/a b~\u00fc.txt'}, ExpiresIn=600),
    s3_token.generate_presigned_url('get_object', Params={'Bucket': 'bkt', 'Key': 'k'}, ExpiresIn=3600),
]))
`;

/** A string (the reason, shown as the skip message) when python3 or botocore is not available. */
async function captureBotocoreRequests(recorder: Recorder): Promise<BotocoreCaptures | string> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'] };
  Object.assign(env, {
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  const before = recorder.requests.length;
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('python3', ['-c', BOTOCORE_SCRIPT, recorder.endpoint], { env }));
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    const reason = stderr?.trim().split('\n').pop() || message.split('\n')[0];
    return `python3 with botocore is not usable here (${reason})`;
  }
  const [root, prefixWithToken, s3Put, s3List] = recorder.requests.slice(before) as SignedRequest[];
  const [presigned, presignedWithToken] = JSON.parse(stdout) as [string, string];
  return {
    root: root!,
    prefixWithToken: prefixWithToken!,
    s3Put: s3Put!,
    s3List: s3List!,
    presignedGet: requestForUrl(presigned),
    presignedGetWithToken: requestForUrl(presignedWithToken),
  };
}

/** What `curl <presigned url>` sends, as far as the signature is concerned. */
function requestForUrl(url: string): SignedRequest {
  const match = /^https?:\/\/([^/]+)(\/[^?]*)\??(.*)$/.exec(url);
  assert.ok(match, `unexpected URL ${url}`);
  return {
    method: 'GET',
    path: match[2]!,
    query: match[3]!,
    headers: { host: match[1]!, 'user-agent': 'curl/8.5.0', accept: '*/*' },
    body: new Uint8Array(),
  };
}

const recorder = await startRecorder();
const js = await captureJsRequests(recorder);
const botocore = await captureBotocoreRequests(recorder);
await recorder.close();

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Verification options with `now` = the request's own X-Amz-Date (plus an offset). */
function optionsAt(request: SignedRequest, offsetMs = 0, overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return { registry, service: 'glue', now: new Date(signedAt(request).getTime() + offsetMs), ...overrides };
}

function signedAt(request: SignedRequest): Date {
  const amzDate =
    request.headers['x-amz-date'] ?? new URLSearchParams(request.query).get('X-Amz-Date') ?? 'missing';
  const date = parseAmzDate(amzDate);
  assert.ok(date, `request has no usable X-Amz-Date (${amzDate})`);
  return date;
}

function withHeaders(request: SignedRequest, changes: Record<string, string | undefined>): SignedRequest {
  const headers = { ...request.headers };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return { ...request, headers };
}

function withBody(request: SignedRequest, body: string): SignedRequest {
  return { ...request, body: new TextEncoder().encode(body) };
}

async function rejects(
  promise: Promise<unknown>,
  type: string,
  message?: string | RegExp,
  status = 403,
): Promise<ServiceError> {
  const error = await promise.then(
    () => assert.fail(`expected ${type}, but the request was accepted`),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof ServiceError, `expected a ServiceError, got ${String(error)}`);
  assert.equal(error.type, type, `wrong __type (message: ${error.message})`);
  assert.equal(error.status, status);
  if (typeof message === 'string') assert.equal(error.message, message);
  else if (message) assert.match(error.message, message);
  return error;
}

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

// ---------------------------------------------------------------------------------------------------
// The same checks for every Glue request either client produced

const glueCases: Array<{ client: string; name: string; region: string; get: () => SignedRequest | string }> = [
  { client: 'JS SDK', name: 'root path, non-ASCII body', region: 'us-west-2', get: () => js.root },
  { client: 'JS SDK', name: '/prefix/ with session token', region: 'eu-west-1', get: () => js.prefixWithToken },
  {
    client: 'botocore',
    name: 'root path',
    region: 'ap-southeast-2',
    get: () => (typeof botocore === 'string' ? botocore : botocore.root),
  },
  {
    client: 'botocore',
    name: '/prefix/ with session token',
    region: 'eu-central-1',
    get: () => (typeof botocore === 'string' ? botocore : botocore.prefixWithToken),
  },
];

for (const glueCase of glueCases) {
  describe(`${glueCase.client}: ${glueCase.name}`, () => {
    const request = (t: { skip: (message: string) => void }): SignedRequest | undefined => {
      const captured = glueCase.get();
      if (typeof captured === 'string') {
        t.skip(captured);
        return undefined;
      }
      return captured;
    };

    it('is accepted, with the scope region and the key account', async (t) => {
      const r = request(t);
      if (!r) return;
      assert.deepEqual(await verifySignature(r, optionsAt(r)), {
        accessKeyId: 'test',
        accountId: ACCOUNT,
        region: glueCase.region,
      });
    });

    it('is accepted up to exactly 5 minutes of skew either way, and when unsigned headers change', async (t) => {
      const r = request(t);
      if (!r) return;
      await verifySignature(r, optionsAt(r, 5 * MINUTE));
      await verifySignature(r, optionsAt(r, -5 * MINUTE));
      await verifySignature(withHeaders(r, { 'user-agent': 'something else', 'accept-encoding': 'gzip' }), optionsAt(r));
    });

    it('is rejected with the wrong secret', async (t) => {
      const r = request(t);
      if (!r) return;
      const wrongSecret = createCredentialRegistry([{ accessKeyId: 'test', secretAccessKey: 'nope', accountId: ACCOUNT }]);
      await rejects(verifySignature(r, optionsAt(r, 0, { registry: wrongSecret })), 'InvalidSignatureException', MISMATCH);
    });

    it('is rejected for an unknown access key', async (t) => {
      const r = request(t);
      if (!r) return;
      const otherKeys = createCredentialRegistry([{ accessKeyId: 'alice', secretAccessKey: 'test', accountId: ACCOUNT }]);
      await rejects(
        verifySignature(r, optionsAt(r, 0, { registry: otherKeys })),
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    });

    it('is rejected 6 minutes after and 6 minutes before its X-Amz-Date', async (t) => {
      const r = request(t);
      if (!r) return;
      const amzDate = r.headers['x-amz-date']!;
      const at = (offset: number) => formatBasic(new Date(signedAt(r).getTime() + offset));
      await rejects(
        verifySignature(r, optionsAt(r, 6 * MINUTE)),
        'InvalidSignatureException',
        `Signature expired: ${amzDate} is now earlier than ${at(MINUTE)} (${at(6 * MINUTE)} - 5 min.)`,
      );
      await rejects(
        verifySignature(r, optionsAt(r, -6 * MINUTE)),
        'InvalidSignatureException',
        `Signature not yet current: ${amzDate} is still later than ${at(-MINUTE)} (${at(-6 * MINUTE)} + 5 min.)`,
      );
    });

    it('is rejected when the body was changed', async (t) => {
      const r = request(t);
      if (!r) return;
      const text = new TextDecoder().decode(r.body);
      const tampered = text.replace(/"(Name|TransformId)": ?"/, (m) => `${m}x`);
      assert.notEqual(tampered, text);
      await rejects(verifySignature(withBody(r, tampered), optionsAt(r)), 'InvalidSignatureException', MISMATCH);
    });

    it('is rejected when a signed header was changed', async (t) => {
      const r = request(t);
      if (!r) return;
      const tampered = withHeaders(r, { 'x-amz-target': 'AWSGlue.DeleteMLTransform' });
      await rejects(verifySignature(tampered, optionsAt(r)), 'InvalidSignatureException', MISMATCH);
      if (r.headers['x-amz-security-token'] !== undefined) {
        const otherToken = withHeaders(r, { 'x-amz-security-token': 'another-token' });
        await rejects(verifySignature(otherToken, optionsAt(r)), 'InvalidSignatureException', MISMATCH);
      }
    });

    it('is rejected when sent to another path', async (t) => {
      const r = request(t);
      if (!r) return;
      await rejects(verifySignature({ ...r, path: '/other/' }, optionsAt(r)), 'InvalidSignatureException', MISMATCH);
    });

    it('is rejected for the S3 endpoint (wrong service)', async (t) => {
      const r = request(t);
      if (!r) return;
      await rejects(
        verifySignature(r, optionsAt(r, 0, { service: 's3' })),
        'InvalidSignatureException',
        "Credential should be scoped to correct service: 's3'.",
      );
    });

    it('reports its scope without verification', async (t) => {
      const r = request(t);
      if (!r) return;
      assert.deepEqual(parseAuthorizationScope(r.headers), { accessKeyId: 'test', region: glueCase.region });
    });
  });
}

function formatBasic(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

// ---------------------------------------------------------------------------------------------------
// Malformed and missing authentication (on a JS-signed request)

describe('missing or malformed authentication', () => {
  const signed = () => js.prefixWithToken;
  const authorization = () => signed().headers['authorization']!;

  it('no Authorization header → MissingAuthenticationTokenException', async () => {
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: undefined }), optionsAt(signed())),
      'MissingAuthenticationTokenException',
      'Missing Authentication Token',
    );
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: '  ' }), optionsAt(signed())),
      'MissingAuthenticationTokenException',
    );
  });

  it('garbled Authorization → IncompleteSignatureException', async () => {
    for (const garbage of ['garbage', 'AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 Credential', 'Bearer abc.def']) {
      await rejects(
        verifySignature(withHeaders(signed(), { authorization: garbage }), optionsAt(signed())),
        'IncompleteSignatureException',
      );
    }
  });

  it('missing Signature / SignedHeaders / Credential are each named', async () => {
    const withoutPart = (part: string) =>
      authorization()
        .split(', ')
        .filter((piece) => !piece.includes(`${part}=`))
        .join(', ');
    for (const part of ['Credential', 'SignedHeaders', 'Signature']) {
      const error = await rejects(
        verifySignature(withHeaders(signed(), { authorization: withoutPart(part) }), optionsAt(signed())),
        'IncompleteSignatureException',
      );
      assert.match(error.message, new RegExp(`'${part}'`));
    }
  });

  it('bad credential scope format → IncompleteSignatureException', async () => {
    for (const scope of ['test/20250101/us-east-1/glue', 'test/2025-01-01/us-east-1/glue/aws4_request', 'test/20250101/us-east-1/glue/aws5_request']) {
      const garbled = authorization().replace(/Credential=[^,]+/, `Credential=${scope}`);
      await rejects(
        verifySignature(withHeaders(signed(), { authorization: garbled }), optionsAt(signed())),
        'IncompleteSignatureException',
        /Credential should have the form/,
      );
    }
  });

  it('missing or malformed X-Amz-Date → IncompleteSignatureException', async () => {
    await rejects(
      verifySignature(withHeaders(signed(), { 'x-amz-date': undefined }), optionsAt(signed())),
      'IncompleteSignatureException',
      /X-Amz-Date/,
    );
    await rejects(
      verifySignature(withHeaders(signed(), { 'x-amz-date': '2025-01-01T12:00:00Z' }), optionsAt(signed())),
      'IncompleteSignatureException',
      /ISO-8601/,
    );
  });

  it('another algorithm → IncompleteSignatureException', async () => {
    const other = authorization().replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512');
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: other }), optionsAt(signed())),
      'IncompleteSignatureException',
      /algorithm/,
    );
  });

  it('scoped to another service → InvalidSignatureException, checked before the key', async () => {
    const otherService = authorization().replace('/glue/aws4_request', '/sts/aws4_request').replace('test/', 'nobody/');
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: otherService }), optionsAt(signed())),
      'InvalidSignatureException',
      "Credential should be scoped to correct service: 'glue'.",
    );
  });

  it('a region name that could not be one → InvalidSignatureException; custom names are fine', async () => {
    const bad = authorization().replace('/eu-west-1/', '/eu:west.1/');
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: bad }), optionsAt(signed())),
      'InvalidSignatureException',
      'Credential should be scoped to a valid region.',
    );
    assert.equal(parseAuthorizationScope(withHeaders(signed(), { authorization: bad }).headers), undefined);
    const custom = authorization().replace('/eu-west-1/', '/local/');
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: custom }), optionsAt(signed())),
      'InvalidSignatureException',
      MISMATCH,
    );
  });

  it('unknown key is reported before an expired date', async () => {
    const unknown = authorization().replace('Credential=test/', 'Credential=nobody/');
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: unknown }), optionsAt(signed(), 60 * MINUTE)),
      'UnrecognizedClientException',
    );
  });

  it('scope date differing from X-Amz-Date → InvalidSignatureException', async () => {
    const day = signed().headers['x-amz-date']!.slice(0, 8);
    const otherDay = authorization().replace(`/${day}/`, '/20200101/');
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: otherDay }), optionsAt(signed())),
      'InvalidSignatureException',
      /Date in Credential scope does not match/,
    );
  });

  it('a shortened or non-hex signature is a mismatch, not a crash', async () => {
    for (const signature of ['abc', 'zz'.repeat(32), '']) {
      const changed = authorization().replace(/Signature=[0-9a-f]+/, `Signature=${signature}`);
      await rejects(
        verifySignature(withHeaders(signed(), { authorization: changed }), optionsAt(signed())),
        signature === '' ? 'IncompleteSignatureException' : 'InvalidSignatureException',
      );
    }
  });

  it('a declared header missing from the request (here one named like an Object.prototype member) is a mismatch', async () => {
    const odd = authorization().replace('SignedHeaders=', 'SignedHeaders=constructor;');
    await rejects(
      verifySignature(withHeaders(signed(), { authorization: odd }), optionsAt(signed())),
      'InvalidSignatureException',
      MISMATCH,
    );
  });

  it('Authorization header together with presigned query parameters → IncompleteSignatureException', async () => {
    const both = { ...signed(), query: 'X-Amz-Algorithm=AWS4-HMAC-SHA256' };
    await rejects(verifySignature(both, optionsAt(signed())), 'IncompleteSignatureException', /Only one auth mechanism/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Identity without verification (--no-auth)

describe('parseAuthorizationScope / identifyUnverified', () => {
  it('reads the key and region; undefined without a usable scope', () => {
    assert.equal(parseAuthorizationScope({}), undefined);
    assert.equal(parseAuthorizationScope({ authorization: 'garbage' }), undefined);
    assert.equal(
      parseAuthorizationScope({ authorization: 'AWS4-HMAC-SHA256 Credential=bad-scope, SignedHeaders=host, Signature=00' }),
      undefined,
    );
    assert.deepEqual(
      parseAuthorizationScope({ authorization: 'AWS4-HMAC-SHA256 Credential=k/20250101/sa-east-1/glue/aws4_request' }),
      { accessKeyId: 'k', region: 'sa-east-1' },
    );
  });

  it('reads the scope of a presigned URL from the query', () => {
    assert.deepEqual(
      parseAuthorizationScope({}, 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k%2F20250101%2Fus-west-1%2Fs3%2Faws4_request'),
      { accessKeyId: 'k', region: 'us-west-1' },
    );
  });

  it('defaults to us-east-1 and 123456789012; uses the configured account of a known key', () => {
    assert.deepEqual(identifyUnverified({ headers: {} }, registry), {
      accessKeyId: undefined,
      accountId: '123456789012',
      region: 'us-east-1',
    });
    const scoped = { authorization: 'AWS4-HMAC-SHA256 Credential=test/20250101/eu-north-1/glue/aws4_request, SignedHeaders=host, Signature=00' };
    assert.deepEqual(identifyUnverified({ headers: scoped }, registry), {
      accessKeyId: 'test',
      accountId: ACCOUNT,
      region: 'eu-north-1',
    });
    const unknownKey = { authorization: scoped.authorization.replace('test/', 'stranger/') };
    assert.equal(identifyUnverified({ headers: unknownKey }, registry).accountId, '123456789012');
  });
});

// ---------------------------------------------------------------------------------------------------
// S3 (header-signed and presigned), for the S3 endpoint that reuses this module

describe('S3 requests signed by botocore', () => {
  const s3 = (t: { skip: (message: string) => void }): BotocoreCaptures | undefined => {
    if (typeof botocore === 'string') {
      t.skip(botocore);
      return undefined;
    }
    return botocore;
  };
  const s3Options = (request: SignedRequest, offsetMs = 0, overrides: Partial<VerifyOptions> = {}) =>
    optionsAt(request, offsetMs, { service: 's3', ...overrides });

  it('PutObject with an escaped key and a signed payload hash is accepted', async (t) => {
    const b = s3(t);
    if (!b) return;
    assert.match(b.s3Put.path, /%20/);
    assert.deepEqual(await verifySignature(b.s3Put, s3Options(b.s3Put)), {
      accessKeyId: 'test',
      accountId: ACCOUNT,
      region: 'eu-west-1',
    });
  });

  it('PutObject whose body does not match x-amz-content-sha256 → XAmzContentSHA256Mismatch (400)', async (t) => {
    const b = s3(t);
    if (!b) return;
    await rejects(verifySignature(withBody(b.s3Put, 'HELLO WORLD'), s3Options(b.s3Put)), 'XAmzContentSHA256Mismatch', undefined, 400);
  });

  it('PutObject with an edited key (path) is a signature mismatch', async (t) => {
    const b = s3(t);
    if (!b) return;
    const moved = { ...b.s3Put, path: b.s3Put.path.replace('dir/', 'other/') };
    await rejects(verifySignature(moved, s3Options(b.s3Put)), 'InvalidSignatureException', MISMATCH);
  });

  it('ListObjectsV2 with an encoded query string is accepted; an edited query is not', async (t) => {
    const b = s3(t);
    if (!b) return;
    assert.ok(b.s3List.query.includes('prefix='));
    await verifySignature(b.s3List, s3Options(b.s3List));
    const edited = { ...b.s3List, query: b.s3List.query.replace('prefix=a%20b', 'prefix=zz') };
    await rejects(verifySignature(edited, s3Options(b.s3List)), 'InvalidSignatureException', MISMATCH);
  });

  it('presigned GET URLs (with and without session token) are accepted until they expire', async (t) => {
    const b = s3(t);
    if (!b) return;
    for (const [request, expires] of [
      [b.presignedGet, 600],
      [b.presignedGetWithToken, 3600],
    ] as const) {
      await verifySignature(request, s3Options(request));
      await verifySignature(request, s3Options(request, expires * 1000));
      await rejects(
        verifySignature(request, s3Options(request, expires * 1000 + 1000)),
        'AccessDeniedException',
        'Request has expired',
      );
      await rejects(verifySignature(request, s3Options(request, -6 * MINUTE)), 'InvalidSignatureException', /not yet current/);
    }
  });

  it('presigned URL with an edited parameter or path, or a wrong secret, is rejected', async (t) => {
    const b = s3(t);
    if (!b) return;
    const request = b.presignedGet;
    const longer = { ...request, query: request.query.replace('X-Amz-Expires=600', 'X-Amz-Expires=6000') };
    await rejects(verifySignature(longer, s3Options(request)), 'InvalidSignatureException', MISMATCH);
    const otherKey = { ...request, path: request.path.replace('dir/', 'secret/') };
    await rejects(verifySignature(otherKey, s3Options(request)), 'InvalidSignatureException', MISMATCH);
    const wrongSecret = createCredentialRegistry([{ accessKeyId: 'test', secretAccessKey: 'x', accountId: ACCOUNT }]);
    await rejects(verifySignature(request, s3Options(request, 0, { registry: wrongSecret })), 'InvalidSignatureException', MISMATCH);
  });

  it('presigned URL missing a parameter or with an over-long expiry → IncompleteSignatureException', async (t) => {
    const b = s3(t);
    if (!b) return;
    const request = b.presignedGet;
    const noSignedHeaders = { ...request, query: request.query.replace(/&?X-Amz-SignedHeaders=[^&]*/, '') };
    await rejects(verifySignature(noSignedHeaders, s3Options(request)), 'IncompleteSignatureException', /X-Amz-SignedHeaders/);
    const tooLong = { ...request, query: request.query.replace('X-Amz-Expires=600', 'X-Amz-Expires=604801') };
    await rejects(verifySignature(tooLong, s3Options(request)), 'IncompleteSignatureException', /604800/);
  });

  it('a presigned S3 URL is not accepted by the Glue endpoint', async (t) => {
    const b = s3(t);
    if (!b) return;
    await rejects(
      verifySignature(b.presignedGet, optionsAt(b.presignedGet)),
      'InvalidSignatureException',
      "Credential should be scoped to correct service: 'glue'.",
    );
  });
});

describe('S3 URL presigned the way @aws-sdk/s3-request-presigner does', () => {
  // The JS presigner sets the header X-Amz-Content-Sha256: UNSIGNED-PAYLOAD, which presign() hoists
  // into the query; uriEscapePath and applyChecksum are off, as in S3RequestPresigner.
  const escape = (text: string) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

  async function presignWithSmithy(sessionToken?: string): Promise<SignedRequest> {
    const signer = new SignatureV4({
      service: 's3',
      region: 'us-east-2',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test', sessionToken },
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const request = new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: 'localhost',
      port: 4566,
      path: `/bkt/${escape('photos/2025 summer (1).jpg').replace(/%2F/g, '/')}`,
      query: { 'x-id': 'GetObject' },
      headers: { host: 'localhost:4566', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    });
    const presigned = await signer.presign(request, { expiresIn: 900, signingDate: new Date('2025-06-01T10:00:00Z') });
    const query = Object.entries(presigned.query ?? {})
      .map(([name, value]) => `${escape(name)}=${escape(String(value))}`)
      .join('&');
    return requestForUrl(`http://localhost:4566${presigned.path}?${query}`);
  }

  it('is accepted (with and without session token) and carries the scope region', async () => {
    for (const token of [undefined, 'session/token+=']) {
      const request = await presignWithSmithy(token);
      assert.match(request.query, /X-Amz-Content-Sha256=UNSIGNED-PAYLOAD/);
      const identity = await verifySignature(request, { registry, service: 's3', now: new Date('2025-06-01T10:10:00Z') });
      assert.equal(identity.region, 'us-east-2');
    }
  });

  it('is rejected after X-Amz-Expires', async () => {
    const request = await presignWithSmithy();
    await rejects(
      verifySignature(request, { registry, service: 's3', now: new Date('2025-06-01T10:15:01Z') }),
      'AccessDeniedException',
    );
  });
});
