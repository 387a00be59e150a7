/**
 * boto3 against the S3 endpoint for the attributes kept with objects (storage class, content
 * headers, website redirect, SSE headers, copy directives, archived objects, refused headers): runs
 * test/python/test_s3_object_attributes_boto3.py against a fresh server, as s3-boto3.test.ts does.
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
const SUITE_TIME_LIMIT_MS = 110_000;

test('boto3 keeps and answers object attributes (test/python/test_s3_object_attributes_boto3.py)', { timeout: 120_000 }, async (t) => {
  const python = findPythonWithBoto3();
  if (!python) {
    t.skip('boto3 not installed: apt-get install python3-boto3');
    return;
  }
  const server = await startServer();
  const configDir = mkdtempSync(join(tmpdir(), 'doppel-s3-attributes-'));
  try {
    const env = isolatedAwsEnv(join(configDir, 'config'), join(configDir, 'credentials'), {
      DOPPEL_ENDPOINT: server.endpoint,
      PYTHONUNBUFFERED: '1',
    });
    const result = await runPythonUnittest(python, 'test_s3_object_attributes_boto3', {
      cwd: PYTHON_DIR,
      env,
      timeLimitMs: SUITE_TIME_LIMIT_MS,
      label: 's3-object-attributes-boto3.test',
    });
    const ran = Number(/^Ran (\d+) tests? in /m.exec(result.output)?.[1] ?? 0);
    const skipped = Number(/skipped=(\d+)/.exec(result.output)?.[1] ?? 0);
    t.diagnostic(`${python}: ran ${ran}, skipped ${skipped}`);
    const details = `python suite output:\n${result.output}\n--- server output ---\n${server.output()}`;
    assert.equal(result.code, 0, `boto3 object attributes suite failed (exit ${result.code})\n${details}`);
    assert.ok(ran > 0 && skipped === 0, `boto3 object attributes suite skipped tests\n${details}`);
  } finally {
    await stopAndRemove(server);
    rmSync(configDir, { recursive: true, force: true });
  }
});
