/**
 * A throwaway Redis server of the test's own (Debian's redis-server, nothing saved to disk): for
 * tests that restart it, which they must not do to the one the whole suite shares
 * (DOPPEL_TEST_REDIS_URL).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './postgres.js';

export interface TestRedis {
  /** redis://127.0.0.1:<port> */
  url: string;
  /** Kills the server: everything it held is gone. */
  kill(): Promise<void>;
  /** Starts an empty server on the same port again, after kill(). */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Rejects with a message fit for a skip reason when there is no redis-server. */
export async function startRedis(): Promise<TestRedis> {
  await promisify(execFile)('redis-server', ['--version']).catch(() => {
    throw new Error('no redis-server (Debian package redis-server)');
  });
  const dir = mkdtempSync(join(tmpdir(), 'doppel-test-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let server: ChildProcess;
  const start = async () => {
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    for (let i = 0; ; i++) {
      const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (e) {
        if (i >= 100) throw new Error(`redis-server on port ${port} did not answer: ${(e as Error).message}`);
        await sleep(50);
      } finally {
        client.disconnect();
      }
    }
  };
  const kill = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url,
    kill,
    start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
