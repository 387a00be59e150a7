/** Server configuration from DOPPEL_* variables, and the seed it hands to the matcher. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFrom, isLoopbackHost, MAX_SEED } from '../../src/config.js';
import type { TransformRecord } from '../../src/storage/records.js';
import { matchParameters } from '../../src/tasks/kinds/matcher-input.js';

describe('configFrom', () => {
  it('defaults: DOPPEL_SEED 0 and the documented values', () => {
    const c = configFrom({}, {});
    assert.equal(c.seed, 0);
    assert.equal(c.port, 4587);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.workerConcurrency, 2);
    assert.equal(c.maxLabelFileBytes, 100 * 2 ** 20);
  });

  it('reads DOPPEL_SEED: an integer from 0 to 2^32 - 1', () => {
    assert.equal(configFrom({}, { DOPPEL_SEED: '7' }).seed, 7);
    assert.equal(configFrom({}, { DOPPEL_SEED: '0' }).seed, 0);
    assert.equal(configFrom({}, { DOPPEL_SEED: '' }).seed, 0);
    assert.equal(configFrom({}, { DOPPEL_SEED: String(MAX_SEED) }).seed, 4294967295);
    for (const bad of ['-1', '1.5', 'abc', '4294967296', '1e30']) {
      assert.throws(() => configFrom({}, { DOPPEL_SEED: bad }), /DOPPEL_SEED must be an integer >= 0 and <= 4294967295/, bad);
    }
  });

  const REDIS = { DOPPEL_REDIS_URL: 'redis://r:6379' };

  it('reads DOPPEL_DATABASE_URL or --database-url (the flag wins) and DOPPEL_DATABASE_POOL_SIZE (default 10)', () => {
    assert.equal(configFrom({}, {}).databaseUrl, undefined);
    assert.equal(configFrom({}, { DOPPEL_DATABASE_URL: '' }).databaseUrl, undefined, 'empty is unset: SQLite');
    assert.equal(configFrom({}, { DOPPEL_DATABASE_URL: 'postgres://u@h/d', ...REDIS }).databaseUrl, 'postgres://u@h/d');
    assert.equal(
      configFrom({ databaseUrl: 'postgresql://u@flag/d' }, { DOPPEL_DATABASE_URL: 'postgres://u@env/d', ...REDIS }).databaseUrl,
      'postgresql://u@flag/d',
    );
    assert.throws(() => configFrom({}, { DOPPEL_DATABASE_URL: 'mysql://u@h/d' }), /DOPPEL_DATABASE_URL \(--database-url\) must be a postgres:/);
    assert.equal(configFrom({}, {}).databasePoolSize, 10);
    assert.equal(configFrom({}, { DOPPEL_DATABASE_POOL_SIZE: '25' }).databasePoolSize, 25);
    assert.throws(() => configFrom({}, { DOPPEL_DATABASE_POOL_SIZE: '0' }), /DOPPEL_DATABASE_POOL_SIZE must be an integer >= 1/);
  });

  it('needs DOPPEL_REDIS_URL or --redis-url (the flag wins) with a database URL and only then; DOPPEL_REDIS_PREFIX (default doppel)', () => {
    const pg = { DOPPEL_DATABASE_URL: 'postgres://u@h/d' };
    assert.equal(configFrom({}, {}).runQueue, undefined, 'the embedded store has no run queue');
    assert.deepEqual(configFrom({}, { ...pg, ...REDIS }).runQueue, { url: 'redis://r:6379', prefix: 'doppel' });
    assert.deepEqual(
      configFrom({ redisUrl: 'rediss://flag:6380/2' }, { ...pg, ...REDIS, DOPPEL_REDIS_PREFIX: 'team-a' }).runQueue,
      { url: 'rediss://flag:6380/2', prefix: 'team-a' },
    );
    assert.throws(() => configFrom({}, pg), /DOPPEL_DATABASE_URL \(--database-url\) needs DOPPEL_REDIS_URL \(--redis-url\)/);
    assert.throws(() => configFrom({}, REDIS), /DOPPEL_REDIS_URL \(--redis-url\) is for nodes sharing a PostgreSQL database/);
    assert.throws(() => configFrom({}, { ...pg, DOPPEL_REDIS_URL: 'http://r' }), /DOPPEL_REDIS_URL \(--redis-url\) must be a redis:/);
  });

  it('reads DOPPEL_LOG_FORMAT: text (default) or json, anything else refused naming the variable', () => {
    assert.equal(configFrom({}, {}).logFormat, 'text');
    assert.equal(configFrom({}, { DOPPEL_LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.throws(() => configFrom({}, { DOPPEL_LOG_FORMAT: 'yaml' }), /DOPPEL_LOG_FORMAT must be one of text, json, got 'yaml'/);
  });

  it('reads DOPPEL_MULTIPART_EXPIRY_HOURS (decimal hours, 0 never; default 24) and DOPPEL_DISK_RESERVE_MB (default 8)', () => {
    assert.equal(configFrom({}, {}).multipartExpiryMs, 24 * 3_600_000);
    assert.equal(configFrom({}, { DOPPEL_MULTIPART_EXPIRY_HOURS: '0.5' }).multipartExpiryMs, 1_800_000);
    assert.equal(configFrom({}, { DOPPEL_MULTIPART_EXPIRY_HOURS: '0' }).multipartExpiryMs, 0);
    for (const bad of ['-1', 'soon', 'Infinity']) {
      assert.throws(
        () => configFrom({}, { DOPPEL_MULTIPART_EXPIRY_HOURS: bad }),
        new RegExp(`^Error: DOPPEL_MULTIPART_EXPIRY_HOURS must be a number of hours >= 0, got '${bad}'$`),
      );
    }
    assert.equal(configFrom({}, {}).diskReserveBytes, 8 * 2 ** 20);
    assert.equal(configFrom({}, { DOPPEL_DISK_RESERVE_MB: '0' }).diskReserveBytes, 0);
    assert.throws(() => configFrom({}, { DOPPEL_DISK_RESERVE_MB: '0.5' }), /DOPPEL_DISK_RESERVE_MB must be an integer >= 0/);
  });

  it('reads DOPPEL_BODY_IDLE_TIMEOUT_SECONDS (whole seconds, at least 1; default 20)', () => {
    assert.equal(configFrom({}, {}).bodyIdleTimeoutMs, 20_000);
    assert.equal(configFrom({}, { DOPPEL_BODY_IDLE_TIMEOUT_SECONDS: '3' }).bodyIdleTimeoutMs, 3_000);
    for (const bad of ['0', '1.5', 'never']) {
      assert.throws(
        () => configFrom({}, { DOPPEL_BODY_IDLE_TIMEOUT_SECONDS: bad }),
        new RegExp(`^Error: DOPPEL_BODY_IDLE_TIMEOUT_SECONDS must be an integer >= 1, got '${bad}'$`),
      );
    }
  });

  it('keeps the other integer settings as they were (minimum only)', () => {
    assert.equal(configFrom({}, { DOPPEL_WORKERS: '4' }).workerConcurrency, 4);
    assert.throws(() => configFrom({}, { DOPPEL_WORKERS: '0' }), /^Error: DOPPEL_WORKERS must be an integer >= 1, got '0'$/);
  });
});

describe('--no-auth on a network address', () => {
  it('tells loopback addresses from network ones', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.20', '10.0.0.5', 'example.com', '::ffff:10.0.0.1', '']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  it('is refused on a non-loopback host, naming the host and the way out', () => {
    for (const [flags, env] of [
      [{ noAuth: true, host: '0.0.0.0' }, {}],
      [{ host: '192.168.1.20' }, { DOPPEL_NO_AUTH: '1' }],
      [{}, { DOPPEL_NO_AUTH: 'true', DOPPEL_HOST: '::' }],
    ] as const) {
      assert.throws(
        () => configFrom(flags, env),
        /^Error: refusing --no-auth on host '[^']+':.*--allow-unauthenticated-network \(DOPPEL_ALLOW_UNAUTHENTICATED_NETWORK=1\)/,
        JSON.stringify([flags, env]),
      );
    }
  });

  it('is accepted on loopback, or on a network address with the explicit opt-in', () => {
    assert.equal(configFrom({ noAuth: true }, {}).noAuth, true);
    assert.equal(configFrom({ noAuth: true, host: 'localhost' }, {}).noAuth, true);
    assert.equal(configFrom({ noAuth: true, host: '0.0.0.0', allowUnauthenticatedNetwork: true }, {}).host, '0.0.0.0');
    const fromEnv = configFrom({}, { DOPPEL_NO_AUTH: '1', DOPPEL_HOST: '0.0.0.0', DOPPEL_ALLOW_UNAUTHENTICATED_NETWORK: '1' });
    assert.equal(fromEnv.noAuth, true);
    assert.equal(configFrom({ host: '0.0.0.0' }, {}).noAuth, false);
  });
});

describe('matchParameters', () => {
  const transform = (fm: Record<string, unknown>) =>
    ({ doc: { Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: fm } } }) as unknown as TransformRecord;

  it("gives the engine the server's seed beside the transform's parameters", () => {
    const t = transform({ PrimaryKeyColumnName: 'id', PrecisionRecallTradeoff: 0.9, AccuracyCostTradeoff: 0.1 });
    assert.deepEqual(matchParameters(t, 42), { seed: 42, precisionRecallTradeoff: 0.9, accuracyCostTradeoff: 0.1 });
    assert.deepEqual(matchParameters(transform({ PrimaryKeyColumnName: 'id' })), { seed: 0 });
  });
});
