/**
 * @aws-sdk/client-glue acceptance: a server started with `--no-auth` (permissive local mode, spec §1.6)
 * accepts unsigned requests and requests signed with any secret; protocol errors still apply.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetMLTransformsCommand, ListMLTransformsCommand } from '@aws-sdk/client-glue';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';
import { expectGlueError, glueClient } from '../support/glue-client.js';

let server: TestServer;

before(async () => {
  server = await startServer({ args: ['--no-auth'] });
});

after(() => stopAndRemove(server));

async function unsigned(target: string, body: string): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(new URL('/', server.endpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('--no-auth', () => {
  it('accepts an unsigned request', async () => {
    const res = await unsigned('AWSGlue.GetMLTransforms', '{}');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json['Transforms'], []);
    assert.ok(res.headers.get('x-amzn-requestid'));
  });

  it('accepts an unsigned request with an empty body as {}', async () => {
    const res = await unsigned('AWSGlue.ListMLTransforms', '');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json['TransformIds'], []);
  });

  it('accepts SDK requests signed with an unknown key or a wrong secret', async () => {
    const client = glueClient(server, { credentials: { accessKeyId: 'AKIDANYTHING', secretAccessKey: 'not-checked' } });
    try {
      const out = await client.send(new GetMLTransformsCommand({}));
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.deepEqual(out.Transforms, []);
    } finally {
      client.destroy();
    }
  });

  it('still validates requests (ValidationException through the SDK)', async () => {
    const client = glueClient(server);
    try {
      await expectGlueError(client.send(new ListMLTransformsCommand({ MaxResults: 0 })), { name: 'ValidationException' });
    } finally {
      client.destroy();
    }
  });

  it('answers UnknownOperationException and SerializationException with 400', async () => {
    const unknown = await unsigned('AWSGlue.NoSuchOperation', '{}');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json['__type'], 'UnknownOperationException');
    const badJson = await unsigned('AWSGlue.GetMLTransforms', '{not json');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json['__type'], 'SerializationException');
    const wrongType = await unsigned('AWSGlue.GetMLTransforms', '{"MaxResults":"ten"}');
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.json['__type'], 'SerializationException');
  });
});
