/**
 * The PostgreSQL metadata store seen from outside: a server given DOPPEL_DATABASE_URL keeps its
 * metadata there (rows read back with pg), two servers on one database share it and migrate it
 * once, broken connections are answered as retryable errors without ending the server, and a bad
 * URL stops the start with a message naming DOPPEL_DATABASE_URL. The parts that need a PostgreSQL
 * server run when DOPPEL_TEST_DATABASE_URL names one (.ci/run starts one).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetMLTransformCommand, GetTagsCommand, GlueServiceException } from '@aws-sdk/client-glue';
import { PgMetadataStore } from '../../src/storage/postgres/pg-metadata-store.js';
import type { TaskRunRecord, TaskType } from '../../src/storage/records.js';
import { createTransform, glueClient, transformArn } from '../support/glue-client.js';
import {
  startServer,
  stopAndRemove,
  TEST_DATABASE_URL,
  testDatabaseUrl,
  withTestPostgres,
  type TestServer,
} from '../support/server.js';

const NO_POSTGRES = TEST_DATABASE_URL === undefined ? 'DOPPEL_TEST_DATABASE_URL is not set (.ci/run starts a PostgreSQL server and sets it)' : false;

describe('PostgreSQL metadata store: start errors', () => {
  it('refuses a URL that is not postgres:// with a message naming DOPPEL_DATABASE_URL', async () => {
    await assert.rejects(
      startServer({ env: { DOPPEL_DATABASE_URL: 'mysql://root@127.0.0.1/doppel' } }),
      (e: Error) => /DOPPEL_DATABASE_URL \(--database-url\) must be a postgres:\/\//.test(e.message) && !/\n\s+at /.test(e.message),
    );
  });

  it('fails at start, naming DOPPEL_DATABASE_URL and hiding the password, when no server answers', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    await assert.rejects(
      startServer({ env: { DOPPEL_DATABASE_URL: 'postgres://doppel:s3cret@127.0.0.1:1/doppel' } }),
      (e: Error) =>
        /doppel: cannot reach the PostgreSQL server of DOPPEL_DATABASE_URL \(postgres:\/\/doppel:\*\*\*@127\.0\.0\.1:1\/doppel\)/.test(e.message) &&
        !e.message.includes('s3cret') &&
        !/\n\s+at /.test(e.message),
    );
  });
});

describe('PostgreSQL metadata store: the run queue at start', { skip: NO_POSTGRES }, () => {
  it('fails at start, naming DOPPEL_REDIS_URL and hiding the password, when Redis does not answer', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'doppel-no-redis-'));
    try {
      await assert.rejects(
        startServer({ dataDir, env: { DOPPEL_DATABASE_URL: TEST_DATABASE_URL!, DOPPEL_REDIS_URL: 'redis://:s3cret@127.0.0.1:1' } }),
        (e: Error) =>
          /doppel: cannot reach Redis at DOPPEL_REDIS_URL \(redis:\/\/:\*\*\*@127\.0\.0\.1:1\): connect ECONNREFUSED/.test(e.message) &&
          !e.message.includes('s3cret') &&
          !/\n\s+at /.test(e.message),
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a database URL without a Redis URL, naming both', async () => {
    await assert.rejects(
      startServer({ env: { DOPPEL_DATABASE_URL: TEST_DATABASE_URL!, DOPPEL_REDIS_URL: '' } }),
      (e: Error) => /DOPPEL_DATABASE_URL \(--database-url\) needs DOPPEL_REDIS_URL \(--redis-url\)/.test(e.message),
    );
  });
});

describe('PostgreSQL metadata store', { skip: NO_POSTGRES }, () => {
  let server: TestServer | undefined;
  before(async () => {
    server = await startServer();
  });
  after(async () => stopAndRemove(server));

  it('keeps a created transform and its tags in the PostgreSQL database, not in the data dir', async () => {
    const client = glueClient(server!);
    const { transformId, name } = await createTransform(client, { Tags: { team: 'matching' } });
    const rows = await withTestPostgres(async (c) => {
      const transforms = await c.query('SELECT id, name, status FROM transforms WHERE id = $1', [transformId]);
      const tags = await c.query('SELECT tag_key, tag_value FROM tags WHERE resource_arn = $1', [transformArn(transformId)]);
      return { transforms: transforms.rows, tags: tags.rows };
    }, server!.databaseUrl);
    assert.deepEqual(rows.transforms, [{ id: transformId, name, status: 'NOT_READY' }]);
    assert.deepEqual(rows.tags, [{ tag_key: 'team', tag_value: 'matching' }]);
    assert.ok(!readdirSync(server!.dataDir).some((f) => f.startsWith('metadata.sqlite')), 'no SQLite metadata file in the data dir');
  });

  it('answers after its connections were cut (the pool opens new ones) and never ends the server', async () => {
    const client = glueClient(server!);
    const { transformId } = await createTransform(client);
    const database = new URL(server!.databaseUrl!).pathname.slice(1);
    const cut = await withTestPostgres((c) =>
      c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]),
    );
    assert.ok((cut.rowCount ?? 0) > 0, 'the server had connections to cut');
    // A request that meets a connection broken under it fails as a retryable 5xx; one more succeeds.
    let answered = false;
    for (let attempt = 0; attempt < 3 && !answered; attempt++) {
      try {
        const out = await client.send(new GetMLTransformCommand({ TransformId: transformId }));
        assert.equal(out.TransformId, transformId);
        answered = true;
      } catch (e) {
        assert.ok(e instanceof GlueServiceException && e.$metadata.httpStatusCode! >= 500, `a retryable error, got ${e}`);
      }
    }
    assert.ok(answered, 'the server answered again after its connections were cut');
    assert.equal(server!.process.exitCode, null, 'the server is still running');
  });

  it('shares one database between two servers, migrated once although both started at the same moment', async () => {
    const name = `doppel_test_shared_${process.pid}`;
    await withTestPostgres((c) => c.query(`CREATE DATABASE ${name}`));
    const url = testDatabaseUrl(name);
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'doppel-test-')));
    const nodes = await Promise.all(dirs.map((dataDir) => startServer({ dataDir, env: { DOPPEL_DATABASE_URL: url } })));
    try {
      const [a, b] = nodes.map((n) => glueClient(n));
      const { transformId } = await createTransform(a!, { Tags: { node: 'a' } });
      const seen = await b!.send(new GetMLTransformCommand({ TransformId: transformId }));
      assert.equal(seen.TransformId, transformId);
      assert.deepEqual((await b!.send(new GetTagsCommand({ ResourceArn: transformArn(transformId) }))).Tags, { node: 'a' });
      const versions = await withTestPostgres(
        async (c) => (await c.query('SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version')).rows,
        url,
      );
      assert.ok(versions.length > 0 && versions.every((v: { n: number }) => v.n === 1), `each migration applied once: ${JSON.stringify(versions)}`);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await withTestPostgres((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
  });
});

describe('PostgreSQL task queue shared by two stores', { skip: NO_POSTGRES }, () => {
  const name = `doppel_test_queue_${process.pid}`;
  const stores: PgMetadataStore[] = [];
  const scope = { accountId: '123456789012', region: 'us-east-1' };
  const run = (id: string, transformId: string, taskType: TaskType): TaskRunRecord => ({
    ...scope,
    id,
    transformId,
    taskType,
    status: 'STARTING',
    properties: {},
    args: {},
    startedOn: 1000,
    lastModifiedOn: 1000,
    executionMs: 0,
    attempt: 1,
    interruptions: 0,
  });

  before(async () => {
    await withTestPostgres((c) => c.query(`CREATE DATABASE ${name}`));
    // Two stores opened at once, as two nodes starting together: each with its own pool.
    stores.push(...(await Promise.all([0, 1].map(() => PgMetadataStore.open({ url: testDatabaseUrl(name), poolSize: 4 })))));
  });
  after(async () => {
    for (const s of stores) await s.close();
    await withTestPostgres((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });

  it('hands each run to exactly one of many claimers on both nodes, and one label import of a transform at a time', async () => {
    const [a, b] = stores as [PgMetadataStore, PgMetadataStore];
    const ids: string[] = [];
    for (let t = 0; t < 10; t++) {
      for (let r = 0; r < 3; r++) {
        const id = `run-${t}-${r}`;
        ids.push(id);
        await (r % 2 ? b : a).tasks.enqueue(run(id, `tfm-${t}`, 'LABELING_SET_GENERATION'), { maxActivePerTransform: 5 });
      }
    }
    const imports = ['import-1', 'import-2', 'import-3'];
    for (const id of imports) await a.tasks.enqueue(run(id, 'tfm-labels', 'IMPORT_LABELS'), { maxActivePerTransform: 5 });

    // Eight claimers, four on each node, claim until the queue has nothing more for them.
    const claimed = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const store = i % 2 ? b : a;
        const mine: string[] = [];
        for (;;) {
          const got = await store.tasks.claimNext(`owner-${i}`, 2000, 60_000);
          if (!got) return mine;
          mine.push(got.id);
        }
      }),
    );
    const all = claimed.flat();
    assert.equal(new Set(all).size, all.length, 'no run claimed twice');
    assert.deepEqual(all.filter((id) => id.startsWith('run-')).sort(), [...ids].sort(), 'every run claimed');
    assert.deepEqual(all.filter((id) => id.startsWith('import-')), ['import-1'], 'only the oldest import while it runs');
  });

  it('counts a transform limit across both nodes: concurrent inserts past it are refused', async () => {
    const [a, b] = stores as [PgMetadataStore, PgMetadataStore];
    const transform = (i: number) => ({
      ...scope,
      region: 'eu-west-1',
      id: `tfm-limit-${i}`,
      name: `limit-${i}`,
      status: 'NOT_READY' as const,
      createdOn: 1,
      lastModifiedOn: 1,
      labelCount: 0,
      doc: {},
    });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? b : a).insertTransform(transform(i), {}, { maxTransforms: 5 }, `arn:${i}`)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
    assert.equal((await a.listTransforms({ ...scope, region: 'eu-west-1' })).length, 5);
  });
});
