/**
 * A task process's object store under its run's lease (tasks/leased-object-store.ts), in a real
 * child process fed lease renewals over IPC as its supervisor feeds them: a task that computed
 * without yielding for longer than the lease still writes when renewals arrived meanwhile, and an
 * attempt whose renewals stopped writes nothing.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const LEASE_MS = 200;
const BUSY_MS = 3 * LEASE_MS;

/** The child: a leased LocalObjectStore; it blocks its event loop for BUSY_MS, then writes once and says how that went. */
const childSource = (dist: string) => `
import { leasedObjectStore } from ${JSON.stringify(`${dist}/src/tasks/leased-object-store.js`)};
import { LocalObjectStore } from ${JSON.stringify(`${dist}/src/storage/local/local-object-store.js`)};
let until = Date.now() + ${LEASE_MS};
process.on('message', (m) => { until = m.until; });
const store = leasedObjectStore(await LocalObjectStore.open(process.argv[2]), () => until);
await store.createBucket('bkt', '123456789012');
process.send('busy');
const end = Date.now() + ${BUSY_MS};
while (Date.now() < end) {}
try {
  await store.putObject('bkt', 'k', (async function* () { yield new Uint8Array([1]); })());
  process.send('written');
} catch (e) {
  process.send(e.name);
}
process.disconnect();
`;

describe('leased object store in a task process', () => {
  let dir: string;
  let script: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'doppel-leased-'));
    script = join(dir, 'child.mjs');
    writeFileSync(script, childSource(new URL('../..', import.meta.url).pathname.replace(/\/$/, '')));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the child; while it is busy, renews its lease every LEASE_MS / 4 when `renew`. Resolves with its answer. */
  function attempt(name: string, renew: boolean): Promise<string> {
    const child = fork(script, [join(dir, name)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let timer: NodeJS.Timeout | undefined;
    return new Promise<string>((resolve, reject) => {
      child.on('error', reject);
      child.on('message', (m: string) => {
        if (m !== 'busy') return resolve(m);
        if (renew) timer = setInterval(() => child.connected && child.send({ until: Date.now() + LEASE_MS }), LEASE_MS / 4);
      });
      child.on('exit', (code) => reject(new Error(`the child exited (${code}) without an answer`)));
    }).finally(() => clearInterval(timer));
  }

  it('a write after a busy stretch sees the renewals sent meanwhile', async () => {
    assert.equal(await attempt('renewed', true), 'written');
  });

  it('a write past a lease nobody renewed is refused', async () => {
    assert.equal(await attempt('lapsed', false), 'LeaseExpired');
  });
});
