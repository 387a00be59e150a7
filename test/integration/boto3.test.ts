/**
 * boto3 acceptance suite: starts a server with scripted task runs and runs the Python unittest suite
 * test/python/test_glue_boto3.py against it with the first interpreter that can import boto3.
 * Skips (with the install hint) when no interpreter has boto3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { envWithoutAwsSettings, findPythonWithBoto3, runPythonUnittest } from '../support/s3-tools.js';
import { startServer, stopAndRemove } from '../support/server.js';

/** The .py files are not compiled: they stay in the source tree (this file runs from dist/test/integration). */
const PYTHON_DIR = fileURLToPath(new URL('../../../test/python/', import.meta.url));
const SUITE_MODULE = 'test_glue_boto3';
/** Milliseconds per minute of a transform's Timeout, so the TIMEOUT case finishes quickly. */
const TIMEOUT_UNIT_MS = '250';
/** The suite takes ~40 s on an idle machine; the margin is for a loaded one. */
const SUITE_TIME_LIMIT_MS = 280_000;

/** pyenv/pip's python3 first, then Debian's; DOPPEL_PYTHON names another. */
const PYTHON_CANDIDATES = [process.env.DOPPEL_PYTHON, 'python3', '/usr/bin/python3', 'python'];

/** The caller's environment without AWS_* settings that could redirect or re-credential boto3. */
function isolatedEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...envWithoutAwsSettings(),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    // old botocore leaves pooled sockets for the GC, which then warns at exit: noise, not a finding
    PYTHONWARNINGS: 'ignore::ResourceWarning',
    ...extra,
  };
}

/** Parses unittest's closing lines: "Ran N tests in Xs" and "OK (skipped=K)" / "FAILED (failures=F, errors=E)". */
function summarize(output: string): { ran: number; failures: number; errors: number; skipped: number } {
  const count = (re: RegExp) => Number(re.exec(output)?.[1] ?? 0);
  return {
    ran: count(/^Ran (\d+) tests? in /m),
    failures: count(/failures=(\d+)/),
    errors: count(/errors=(\d+)/),
    skipped: count(/skipped=(\d+)/),
  };
}

test('boto3 drives every operation (test/python/test_glue_boto3.py)', { timeout: 300_000 }, async (t) => {
  const python = findPythonWithBoto3(PYTHON_CANDIDATES);
  if (!python) {
    t.skip('boto3 not installed: apt-get install python3-boto3');
    return;
  }
  const server = await startServer({ scriptedTasks: true, env: { DOPPEL_TIMEOUT_UNIT_MS: TIMEOUT_UNIT_MS } });
  try {
    const result = await runPythonUnittest(python, SUITE_MODULE, {
      cwd: PYTHON_DIR,
      env: isolatedEnv({ DOPPEL_ENDPOINT: server.endpoint, DOPPEL_TIMEOUT_UNIT_MS: TIMEOUT_UNIT_MS }),
      timeLimitMs: SUITE_TIME_LIMIT_MS,
      label: 'boto3.test',
    });
    const summary = summarize(result.output);
    t.diagnostic(
      `${python}: ran ${summary.ran}, failures ${summary.failures}, errors ${summary.errors}, skipped ${summary.skipped}`,
    );
    const details = `python suite output:\n${result.output}\n--- server output ---\n${server.output()}`;
    assert.equal(result.code, 0, `boto3 suite failed (exit ${result.code ?? result.signal})\n${details}`);
    assert.ok(summary.ran > 0, `boto3 suite ran no tests\n${details}`);
    assert.ok(summary.skipped < summary.ran, `boto3 suite skipped everything\n${details}`);
  } finally {
    await stopAndRemove(server);
  }
});
