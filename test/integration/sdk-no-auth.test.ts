/**
 * @aws-sdk/client-glue acceptance: a server started with `--no-auth` (permissive local mode, spec §1.6)
 * accepts unsigned requests and requests signed with any secret; protocol errors still apply.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetMLTransformsCommand, ListMLTransformsCommand } from '@aws-sdk/client-glue';
import { startServer, stopAndRemove, untilLogged, type TestServer } from '../support/server.js';
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

describe('--no-auth on a network address', () => {
  it('is refused at startup with a message naming the host and the opt-in', async () => {
    await assert.rejects(startServer({ args: ['--no-auth', '--host', '0.0.0.0'] }), (e: Error) => {
      assert.match(e.message, /server exited with 1 before listening/);
      assert.match(e.message, /refusing --no-auth on host '0\.0\.0\.0'/);
      assert.match(e.message, /--allow-unauthenticated-network/);
      return true;
    });
    await assert.rejects(
      startServer({ env: { DOPPEL_NO_AUTH: '1', DOPPEL_HOST: '0.0.0.0' } }),
      /refusing --no-auth on host '0\.0\.0\.0'/,
    );
  });

  it('starts with --allow-unauthenticated-network and says so, and answers unsigned requests', async () => {
    const open = await startServer({ args: ['--no-auth', '--host', '0.0.0.0', '--allow-unauthenticated-network'] });
    try {
      const res = await fetch(`http://127.0.0.1:${open.port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSGlue.ListMLTransforms' },
        body: '{}',
      });
      assert.equal(res.status, 200);
      // The startup lines after "listening on" may arrive after startServer returned.
      await untilLogged(open, /auth: +DISABLED \(--no-auth\) on 0\.0\.0\.0, a network address/);
    } finally {
      await stopAndRemove(open);
    }
    const fromEnv = await startServer({
      env: { DOPPEL_NO_AUTH: '1', DOPPEL_HOST: '0.0.0.0', DOPPEL_ALLOW_UNAUTHENTICATED_NETWORK: '1' },
    });
    await stopAndRemove(fromEnv);
  });
});
