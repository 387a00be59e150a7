/**
 * Starts s3rver (a devDependency) as a separate server process, so the external S3 adapter is
 * tested over real HTTP against a real S3-compatible server rather than a mock.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** s3rver's bin script (run with this Node, so no shell or PATH lookup is involved). */
const S3RVER_BIN = fileURLToPath(new URL('../../../node_modules/s3rver/bin/s3rver.js', import.meta.url));

/**
 * s3rver's built-in key pair (lib/models/account.js: DUMMY_ACCOUNT.createKeyPair('S3RVER',
 * 'S3RVER')). It refuses an unknown access key, but does not verify SigV4 signatures
 * (middleware/authentication.js: "Signature version 4 calculation is unimplemented"), so a wrong
 * secret goes unnoticed.
 */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3rver {
  endpoint: string;
  /** Where it keeps buckets and objects (a restart on it finds them again). */
  dataDir: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Everything the process printed, for failure messages. */
  output: () => string;
  /** SIGTERM, wait for exit, remove the data directory unless the caller gave it. */
  stop: () => Promise<void>;
  /** SIGKILL (an outage: whatever it was doing is cut off) and wait for exit; the data directory stays. */
  kill: () => Promise<void>;
}

export interface S3rverOptions {
  /** Keep the objects here (and leave them on stop): a second s3rver on it is a restart. */
  dataDir?: string;
  /** Listen on this port (default: one the OS picks). */
  port?: number;
}

/**
 * Rejects with a message fit for a skip reason when s3rver is missing or does not come up.
 * `-p 0` lets the OS pick the port; s3rver prints "S3rver listening on 127.0.0.1:PORT" even
 * with --silent (which only quiets its request log).
 */
export async function startS3rver(options: S3rverOptions = {}): Promise<S3rver> {
  if (!existsSync(S3RVER_BIN)) throw new Error(`s3rver is not installed (${S3RVER_BIN}); run npm install`);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'doppel-s3rver-'));
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node >= 17) only
  // offers through its legacy provider: without it every truncated listing answers 500.
  const args = ['--openssl-legacy-provider', S3RVER_BIN, '-d', dataDir, '-a', '127.0.0.1', '-p', String(options.port ?? 0), '--silent'];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // never spawned: there is no exit to wait for
  });
  const removeDataDir = () => {
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s:\n${out}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /S3rver listening on [^\s:]+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`s3rver could not be started: ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited (${code ?? signal}) before listening:\n${out}`));
      });
    });
    return {
      endpoint: `http://127.0.0.1:${port}`,
      dataDir,
      port,
      ...S3RVER_CREDENTIALS,
      output: () => out,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
        removeDataDir();
      },
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    };
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    removeDataDir();
    throw err;
  }
}
