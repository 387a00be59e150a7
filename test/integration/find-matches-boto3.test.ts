/**
 * The whole FindMatches loop with boto3 (test/python/test_find_matches_boto3.py) against a real
 * server and the real matcher, on the restaurant dataset. Skips when no interpreter has boto3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASETS_DIR } from '../support/datasets.js';
import { findPythonWithBoto3 } from '../support/s3-tools.js';
import { startServer } from '../support/server.js';

const PYTHON_DIR = fileURLToPath(new URL('../../../test/python/', import.meta.url));
const SUITE_TIME_LIMIT_MS = 400_000;

function isolatedEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('BOTO')) env[key] = value;
  }
  return {
    ...env,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    PYTHONWARNINGS: 'ignore::ResourceWarning',
    ...extra,
  };
}

test('boto3 runs the whole FindMatches loop (test/python/test_find_matches_boto3.py)', { timeout: SUITE_TIME_LIMIT_MS + 20_000 }, async (t) => {
  const python = findPythonWithBoto3();
  if (!python) {
    t.skip('boto3 not installed: apt-get install python3-boto3');
    return;
  }
  const server = await startServer();
  try {
    const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(python, ['-m', 'unittest', '-v', 'test_find_matches_boto3'], {
        cwd: PYTHON_DIR,
        env: isolatedEnv({ DOPPEL_ENDPOINT: server.endpoint, DOPPEL_DATASET_DIR: join(DATASETS_DIR, 'restaurant') }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr.on('data', (b: Buffer) => (output += b.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIME_LIMIT_MS);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
    const details = `python output:\n${result.output}\n--- server output ---\n${server.output()}`;
    assert.equal(result.code, 0, `boto3 loop failed\n${details}`);
    assert.match(result.output, /^Ran 1 test/m, details);
    assert.doesNotMatch(result.output, /skipped/, details);
  } finally {
    await server.stop();
    await server.cleanup();
  }
});
