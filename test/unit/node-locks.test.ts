import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { holdNodeLock, nodeProvablyDead, otherLiveNodes } from '../../src/storage/node-locks.js';

const NODE_LOCKS = fileURLToPath(new URL('../../src/storage/node-locks.js', import.meta.url));

/** Another process holding the lock of `nodeId` (creating its file when `create`), until it is killed. */
async function holderProcess(dataDir: string, nodeId: string, create: boolean): Promise<ChildProcess> {
  const script = `import { holdNodeLock } from ${JSON.stringify(NODE_LOCKS)};
holdNodeLock(${JSON.stringify(dataDir)}, ${JSON.stringify(nodeId)}, { create: ${create} });
console.log('held');
setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => b.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
  return child;
}

async function sigkill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('node locks', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'doppel-node-locks-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) await sigkill(c);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a node is provably dead only once it and every process joining its lock are gone', async () => {
    const node = await holderProcess(dataDir, 'host-1-aa', true);
    const taskProcess = await holderProcess(dataDir, 'host-1-aa', false);
    children.push(node, taskProcess);
    assert.equal(nodeProvablyDead(dataDir, 'host-1-aa'), false);
    await sigkill(node);
    assert.equal(nodeProvablyDead(dataDir, 'host-1-aa'), false, 'its task process still lives');
    await sigkill(taskProcess);
    assert.equal(nodeProvablyDead(dataDir, 'host-1-aa'), true);
    assert.ok(existsSync(join(dataDir, 'nodes', 'host-1-aa.lock')), 'the proof stays for the others to see');
  });

  it('without a lock file nothing is proven (a node on another machine), nor for an id that is not one', () => {
    assert.equal(nodeProvablyDead(dataDir, 'elsewhere-7-bb'), false);
    assert.equal(nodeProvablyDead(dataDir, '../metadata'), false);
  });

  it('a clean release removes the file; otherLiveNodes counts the live, and keeps the dead files of lease owners only', async () => {
    const release = holdNodeLock(dataDir, 'me-1-cc', { create: true });
    const live = await holderProcess(dataDir, 'live-2-dd', true);
    children.push(live);
    await sigkill(await holderProcess(dataDir, 'dead-with-runs-3-ee', true));
    await sigkill(await holderProcess(dataDir, 'dead-idle-4-ff', true));
    assert.deepEqual(otherLiveNodes(dataDir, 'me-1-cc', new Set(['dead-with-runs-3-ee'])), ['live-2-dd']);
    assert.ok(existsSync(join(dataDir, 'nodes', 'dead-with-runs-3-ee.lock')));
    assert.ok(!existsSync(join(dataDir, 'nodes', 'dead-idle-4-ff.lock')));
    release();
    assert.ok(!existsSync(join(dataDir, 'nodes', 'me-1-cc.lock')));
  });
});
