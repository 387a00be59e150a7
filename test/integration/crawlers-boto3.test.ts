/**
 * Crawlers with boto3 (test/python/test_crawlers_boto3.py) against a real server: real crawls in
 * task processes over files uploaded to doppel's S3. The Parquet file the suite crawls is written
 * here with DuckDB. Skips when no interpreter has boto3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { envWithoutAwsSettings, findPythonWithBoto3, runPythonUnittest } from '../support/s3-tools.js';
import { startServer, stopAndRemove } from '../support/server.js';

const PYTHON_DIR = fileURLToPath(new URL('../../../test/python/', import.meta.url));
const SUITE_TIME_LIMIT_MS = 280_000;

/** people.parquet: one column of each type the crawler maps (int, string, double, date, timestamp, boolean). */
async function writeParquet(dir: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    await connection.run(`COPY (SELECT * FROM (VALUES
        (1::INTEGER, 'Ann', 2.5::DOUBLE, DATE '1990-01-02', TIMESTAMP '2024-05-06 07:08:09', true),
        (2, 'Bob', 3.0, DATE '1985-03-04', TIMESTAMP '2024-05-07 10:00:00', false),
        (3, 'Cid', 4.5, DATE '1979-12-31', TIMESTAMP '2024-05-08 11:30:00', true))
      AS t(id, name, score, born, seen, active)) TO '${join(dir, 'people.parquet')}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

test('boto3 crawls CSV, JSON lines, Parquet and a partitioned tree (test/python/test_crawlers_boto3.py)', { timeout: SUITE_TIME_LIMIT_MS + 20_000 }, async (t) => {
  const python = findPythonWithBoto3();
  if (!python) {
    t.skip('boto3 not installed: apt-get install python3-boto3');
    return;
  }
  const parquetDir = mkdtempSync(join(tmpdir(), 'doppel-crawl-parquet-'));
  const server = await startServer();
  try {
    await writeParquet(parquetDir);
    const result = await runPythonUnittest(python, 'test_crawlers_boto3', {
      cwd: PYTHON_DIR,
      env: {
        ...envWithoutAwsSettings(),
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONWARNINGS: 'ignore::ResourceWarning',
        DOPPEL_ENDPOINT: server.endpoint,
        DOPPEL_PARQUET_DIR: parquetDir,
      },
      timeLimitMs: SUITE_TIME_LIMIT_MS,
      label: 'test_crawlers_boto3',
    });
    const details = `python output:\n${result.output}\n--- server output ---\n${server.output()}`;
    assert.equal(result.code, 0, `the boto3 crawler suite failed\n${details}`);
    assert.match(result.output, /^Ran 6 tests/m, details);
    assert.doesNotMatch(result.output, /skipped/, details);
    // UpdateBehavior LOG records the change it leaves alone in the crawl's log (the server's output).
    assert.match(server.output(), /table sales has changed \(new columns: channel string\); not updated \(SchemaChangePolicy\.UpdateBehavior LOG\)/);
  } finally {
    await stopAndRemove(server);
    rmSync(parquetDir, { recursive: true, force: true });
  }
});
