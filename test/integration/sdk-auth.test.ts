/**
 * @aws-sdk/client-glue acceptance: SigV4 authentication failures as the SDK reports them, raw
 * unsigned/mis-signed requests, and account/region isolation with a second credential pair
 * configured through DOPPEL_CREDENTIALS (spec §1.5, §1.6; test/support/README.md).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  BatchGetJobsCommand,
  CreateDatabaseCommand,
  CreateJobCommand,
  DeleteMLTransformCommand,
  GetDatabaseCommand,
  GetMLTransformCommand,
  GetMLTransformsCommand,
  GetTagsCommand,
  GlueClient,
  ListJobsCommand,
  ListMLTransformsCommand,
  TagResourceCommand,
  UpdateDatabaseCommand,
  UpdateMLTransformCommand,
} from '@aws-sdk/client-glue';
import { SignatureV4 } from '@smithy/signature-v4';
import { glueHttpRequest } from '../support/raw-glue.js';
import { DEFAULT_ACCOUNT_ID, TEST_CREDENTIALS, TEST_REGION, twoAccountEnv, type TestServer } from '../support/server.js';
import { createTransform, expectGlueError, getTransform, glueClient, startGlueServer, stopGlueServer, transformArn, uniqueName } from '../support/glue-client.js';

const OTHER = { accessKeyId: 'AKIDOTHERACCOUNT', secretAccessKey: 'other-secret-key' };
const OTHER_ACCOUNT = '210987654321';
const OTHER_REGION = 'eu-west-1';

let server: TestServer;
let glue: GlueClient;

before(async () => {
  ({ server, glue } = await startGlueServer({ env: twoAccountEnv(OTHER, OTHER_ACCOUNT) }));
});

after(() => stopGlueServer({ server, glue }));

/** POSTs a Glue JSON request with fetch; signs it when `sign` is given. */
async function rawRequest(
  target: string,
  body: string,
  sign?: { credentials: typeof TEST_CREDENTIALS; region?: string; service?: string; tamper?: (b: string) => string },
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const request = glueHttpRequest(server, target, body, extraHeaders);
  let headers = request.headers;
  let sent = body;
  if (sign) {
    const signer = new SignatureV4({
      credentials: sign.credentials,
      region: sign.region ?? TEST_REGION,
      service: sign.service ?? 'glue',
      sha256: Sha256,
    });
    headers = (await signer.sign(request)).headers;
    sent = sign.tamper ? sign.tamper(body) : body;
  }
  const { host: _host, ...rest } = headers; // fetch sets Host itself (to the same value that was signed)
  const res = await fetch(new URL('/', server.endpoint), { method: 'POST', headers: rest, body: sent });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('authentication through the SDK', () => {
  it('accepts the configured credential pairs', async () => {
    const out = await glue.send(new GetMLTransformsCommand({}));
    assert.equal(out.$metadata.httpStatusCode, 200);
    const other = glueClient(server, { credentials: OTHER });
    try {
      assert.ok(Array.isArray((await other.send(new ListMLTransformsCommand({}))).TransformIds));
    } finally {
      other.destroy();
    }
  });

  it('wrong secret → InvalidSignatureException (403)', async () => {
    const bad = glueClient(server, { credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } });
    try {
      await expectGlueError(bad.send(new GetMLTransformsCommand({})), { name: 'InvalidSignatureException', status: 403 });
    } finally {
      bad.destroy();
    }
  });

  it('unknown access key → UnrecognizedClientException (403)', async () => {
    const bad = glueClient(server, { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'whatever' } });
    try {
      await expectGlueError(bad.send(new ListMLTransformsCommand({})), {
        name: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
        status: 403,
      });
    } finally {
      bad.destroy();
    }
  });

  it('the built-in default pair is replaced by DOPPEL_CREDENTIALS, not added to', async () => {
    // `test:test` is configured explicitly above; a pair that is only in the default set is not.
    const bad = glueClient(server, { credentials: { accessKeyId: 'test2', secretAccessKey: 'test2' } });
    try {
      await expectGlueError(bad.send(new ListMLTransformsCommand({})), { name: 'UnrecognizedClientException', status: 403 });
    } finally {
      bad.destroy();
    }
  });

  it('a signature dated more than 5 minutes off → InvalidSignatureException "Signature expired"', async () => {
    const stale = glueClient(server, { systemClockOffset: -10 * 60 * 1000 });
    try {
      await expectGlueError(stale.send(new GetMLTransformsCommand({})), {
        name: 'InvalidSignatureException',
        message: /Signature expired/,
        status: 403,
      });
    } finally {
      stale.destroy();
    }
  });

  it('does not create anything when authentication fails', async () => {
    const name = uniqueName('unauth');
    const bad = glueClient(server, { credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } });
    try {
      await expectGlueError(bad.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name } })), {
        name: 'InvalidSignatureException',
        status: 403,
      });
    } finally {
      bad.destroy();
    }
    await expectGlueError(glue.send(new GetDatabaseCommand({ Name: name })), { name: 'EntityNotFoundException' });
  });
});

describe('raw HTTP authentication', () => {
  it('an unsigned fetch → 403 MissingAuthenticationTokenException in the AWS JSON error format', async () => {
    const res = await rawRequest('GetMLTransforms', '{}');
    assert.equal(res.status, 403);
    assert.equal(res.json['__type'], 'MissingAuthenticationTokenException');
    assert.equal(typeof res.json['Message'], 'string');
    assert.ok(res.headers.get('x-amzn-requestid'), 'x-amzn-RequestId header');
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-amz-json-1\.1/);
  });

  it('a correctly signed fetch succeeds', async () => {
    const res = await rawRequest('GetMLTransforms', '{}', { credentials: TEST_CREDENTIALS });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.ok(Array.isArray(res.json['Transforms']));
  });

  it('a body changed after signing → 403 InvalidSignatureException', async () => {
    const res = await rawRequest('GetMLTransforms', '{}', { credentials: TEST_CREDENTIALS, tamper: () => '{"MaxResults":1}' });
    assert.equal(res.status, 403);
    assert.equal(res.json['__type'], 'InvalidSignatureException');
  });

  it('a credential scoped to another service → 403 InvalidSignatureException', async () => {
    const res = await rawRequest('GetMLTransforms', '{}', { credentials: TEST_CREDENTIALS, service: 's3' });
    assert.equal(res.status, 403);
    assert.equal(res.json['__type'], 'InvalidSignatureException');
  });

  it('an unparseable Authorization header → 403 IncompleteSignatureException', async () => {
    const res = await rawRequest('GetMLTransforms', '{}', undefined, {
      authorization: 'AWS4-HMAC-SHA256 this-is-not-a-signature',
      'x-amz-date': '20250101T000000Z',
    });
    assert.equal(res.status, 403);
    assert.equal(res.json['__type'], 'IncompleteSignatureException');
  });

  it('a Signature Version 2 Authorization header → 403 IncompleteSignatureException, the way to SigV4 in Detail', async () => {
    const res = await rawRequest('GetMLTransforms', '{}', undefined, {
      authorization: `AWS ${TEST_CREDENTIALS.accessKeyId}:${createHmac('sha1', TEST_CREDENTIALS.secretAccessKey).update('POST\n\n\n\n/').digest('base64')}`,
      date: new Date().toUTCString(),
    });
    assert.equal(res.status, 403);
    assert.equal(res.json['__type'], 'IncompleteSignatureException');
    assert.equal(res.json['Message'], 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
    assert.match(String(res.json['Detail']), /^This request \(Authorization: AWS <key>:<signature>\) is signed with Signature Version 2; only Signature Version 4/);
  });
});

describe('account isolation (second credential pair)', () => {
  let other: GlueClient;
  before(() => {
    other = glueClient(server, { credentials: OTHER });
  });
  after(() => other?.destroy());

  it("one account cannot see, change or delete another account's transforms and catalog", async () => {
    const mine = await createTransform(glue);
    await expectGlueError(other.send(new GetMLTransformCommand({ TransformId: mine.transformId })), {
      name: 'EntityNotFoundException',
      message: `Cannot find MLTransform in account ${OTHER_ACCOUNT} with handle ${mine.transformId}.`,
    });
    await expectGlueError(other.send(new UpdateMLTransformCommand({ TransformId: mine.transformId, Description: 'x' })), {
      name: 'EntityNotFoundException',
    });
    await expectGlueError(other.send(new DeleteMLTransformCommand({ TransformId: mine.transformId })), {
      name: 'EntityNotFoundException',
    });
    const listed = await other.send(new ListMLTransformsCommand({}));
    assert.ok(!listed.TransformIds?.includes(mine.transformId));
    const got = await other.send(new GetMLTransformsCommand({ Filter: { Name: mine.name } }));
    assert.deepEqual(got.Transforms, []);
    await expectGlueError(other.send(new GetDatabaseCommand({ Name: mine.database })), { name: 'EntityNotFoundException' });
    assert.equal((await getTransform(glue, mine.transformId)).Name, mine.name, 'still there for its owner');
  });

  it("ListJobs, BatchGetJobs and UpdateDatabase see only the caller's own jobs and databases", async () => {
    const job = uniqueName('job');
    await glue.send(new CreateJobCommand({ Name: job, Role: 'arn:aws:iam::123456789012:role/GlueRole', Command: { Name: 'findmatches' }, Tags: { k: 'v' } }));
    assert.ok((await glue.send(new ListJobsCommand({}))).JobNames?.includes(job));
    assert.ok(!(await other.send(new ListJobsCommand({}))).JobNames?.includes(job));
    assert.deepEqual((await other.send(new ListJobsCommand({ Tags: { k: 'v' } }))).JobNames, []);
    const batch = await other.send(new BatchGetJobsCommand({ JobNames: [job] }));
    assert.deepEqual([batch.Jobs, batch.JobsNotFound], [[], [job]]);

    const mine = await createTransform(glue);
    await expectGlueError(other.send(new UpdateDatabaseCommand({ Name: mine.database, DatabaseInput: { Name: mine.database, Description: 'theirs' } })), {
      name: 'EntityNotFoundException',
      message: `Database ${mine.database} not found.`,
    });
    assert.equal((await glue.send(new GetDatabaseCommand({ Name: mine.database }))).Database?.Description, undefined);
  });

  it('the same database, table and transform names can exist in both accounts; ARNs carry the account', async () => {
    const mine = await createTransform(glue, { Tags: { owner: 'a' } });
    const theirs = await createTransform(other, {
      Name: mine.name,
      database: undefined,
      Tags: { owner: 'b' },
    });
    assert.notEqual(theirs.transformId, mine.transformId);

    // Same database name too: create it in the other account and reuse it.
    await other.send(new CreateDatabaseCommand({ DatabaseInput: { Name: mine.database } }));
    const db = await other.send(new GetDatabaseCommand({ Name: mine.database }));
    assert.equal(db.Database?.CatalogId, OTHER_ACCOUNT);

    const theirArn = transformArn(theirs.transformId, TEST_REGION, OTHER_ACCOUNT);
    assert.deepEqual((await other.send(new GetTagsCommand({ ResourceArn: theirArn }))).Tags, { owner: 'b' });
    assert.deepEqual((await glue.send(new GetTagsCommand({ ResourceArn: transformArn(mine.transformId) }))).Tags, { owner: 'a' });
    await expectGlueError(glue.send(new GetTagsCommand({ ResourceArn: theirArn })), { name: 'InvalidInputException' });
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: theirArn, TagsToAdd: { x: 'y' } })), {
      name: 'InvalidInputException',
    });

    const mineByName = await glue.send(new ListMLTransformsCommand({ Filter: { Name: mine.name } }));
    assert.deepEqual(mineByName.TransformIds, [mine.transformId]);
    const theirsByName = await other.send(new ListMLTransformsCommand({ Filter: { Name: mine.name } }));
    assert.deepEqual(theirsByName.TransformIds, [theirs.transformId]);
  });
});

describe('region isolation', () => {
  let west: GlueClient;
  before(() => {
    west = glueClient(server, { region: OTHER_REGION });
  });
  after(() => west?.destroy());

  it('resources in one region are invisible from another; names and ARNs are per region', async () => {
    const east = await createTransform(glue, { Tags: { where: 'east' } });
    await expectGlueError(west.send(new GetMLTransformCommand({ TransformId: east.transformId })), {
      name: 'EntityNotFoundException',
      message: `Cannot find MLTransform in account ${DEFAULT_ACCOUNT_ID} with handle ${east.transformId}.`,
    });
    await expectGlueError(west.send(new GetDatabaseCommand({ Name: east.database })), { name: 'EntityNotFoundException' });
    const listed = await west.send(new GetMLTransformsCommand({ Filter: { Name: east.name } }));
    assert.deepEqual(listed.Transforms, []);

    const westT = await createTransform(west, { Name: east.name, Tags: { where: 'west' } });
    const westArn = transformArn(westT.transformId, OTHER_REGION);
    assert.deepEqual((await west.send(new GetTagsCommand({ ResourceArn: westArn }))).Tags, { where: 'west' });
    await expectGlueError(west.send(new GetTagsCommand({ ResourceArn: transformArn(east.transformId) })), {
      name: 'InvalidInputException',
    });
    await expectGlueError(glue.send(new GetTagsCommand({ ResourceArn: westArn })), { name: 'InvalidInputException' });
    assert.deepEqual((await glue.send(new ListMLTransformsCommand({ Filter: { Name: east.name } }))).TransformIds, [east.transformId]);
    assert.deepEqual((await west.send(new ListMLTransformsCommand({ Filter: { Name: east.name } }))).TransformIds, [westT.transformId]);
  });
});
