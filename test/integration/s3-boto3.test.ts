/**
 * boto3 against the S3 endpoint: runs the Python unittest suite test/python/test_s3_boto3.py with
 * the first of `python3`, `/usr/bin/python3` that can import boto3, against a fresh server. Skips
 * (with the install hint) when neither can.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer, stopAndRemove } from '../support/server.js';
import { findPythonWithBoto3, isolatedAwsEnv, runPythonUnittest } from '../support/s3-tools.js';

/** The .py files are not compiled: they stay in the source tree (this file runs from dist/test/integration). */
const PYTHON_DIR = fileURLToPath(new URL('../../../test/python/', import.meta.url));
const SUITE_TIME_LIMIT_MS = 170_000;

test('boto3 drives the S3 endpoint (test/python/test_s3_boto3.py)', { timeout: 180_000 }, async (t) => {
  const python = findPythonWithBoto3();
  if (!python) {
    t.skip('boto3 not installed: apt-get install python3-boto3');
    return;
  }
  const server = await startServer();
  const configDir = mkdtempSync(join(tmpdir(), 'doppel-s3-boto3-'));
  try {
    const env = isolatedAwsEnv(join(configDir, 'config'), join(configDir, 'credentials'), {
      DOPPEL_ENDPOINT: server.endpoint,
      PYTHONUNBUFFERED: '1',
    });
    const result = await runPythonUnittest(python, 'test_s3_boto3', {
      cwd: PYTHON_DIR,
      env,
      timeLimitMs: SUITE_TIME_LIMIT_MS,
      label: 's3-boto3.test',
    });
    const ran = Number(/^Ran (\d+) tests? in /m.exec(result.output)?.[1] ?? 0);
    const skipped = Number(/skipped=(\d+)/.exec(result.output)?.[1] ?? 0);
    t.diagnostic(`${python}: ran ${ran}, skipped ${skipped}`);
    const details = `python suite output:\n${result.output}\n--- server output ---\n${server.output()}`;
    assert.equal(result.code, 0, `boto3 S3 suite failed (exit ${result.code})\n${details}`);
    assert.ok(ran > 0 && skipped < ran, `boto3 S3 suite ran nothing\n${details}`);
  } finally {
    await stopAndRemove(server);
    rmSync(configDir, { recursive: true, force: true });
  }
});
