/**
 * Starts a real doppel server process for the benchmark: the compiled CLI
 * (`node dist/src/cli/main.js serve`) on a free port with its own temporary data dir, exactly as a
 * user would run it (the same approach as test/support/server.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/bench/lib/ → dist/src/cli/main.js */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const REGION = 'us-east-1';
export const ACCOUNT_ID = '123456789012';

export interface BenchServer {
  endpoint: string;
  dataDir: string;
  process: ChildProcess;
  /** Everything the server printed (stdout and stderr), for failure reports. */
  output: () => string;
  /** SIGTERM, wait for exit, remove the data dir unless `keep`. */
  stop: (keep?: boolean) => Promise<void>;
}

/**
 * Starts a server on `existingDataDir` (a restart: the state of an earlier server, stopped with
 * `keep`, or a node sharing a running server's data dir), or on a new temporary data dir, with
 * `serveFlags` added to `doppel serve`.
 */
export async function startServer(
  env: Record<string, string> = {},
  existingDataDir?: string,
  serveFlags: readonly string[] = [],
): Promise<BenchServer> {
  const dataDir = existingDataDir ?? mkdtempSync(join(tmpdir(), 'doppel-bench-'));
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0', '--data-dir', dataDir, ...serveFlags], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (b: Buffer) => {
    out += b.toString();
    // Keep the tail only: a long benchmark must not grow without bound.
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));

  let endpoint: string;
  try {
    endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`doppel did not start in 30 s:\n${out}`)), 30_000);
      const check = () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout!.on('data', check);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`doppel exited with ${code} before listening:\n${out}`));
      });
    });
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    if (existingDataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    endpoint,
    dataDir,
    process: child,
    output: () => out,
    stop: async (keep = false) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
