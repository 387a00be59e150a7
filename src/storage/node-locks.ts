import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Which doppel processes sharing a data dir are alive: `serve` and `worker` nodes, any number of
 * them on one machine. A task run's lease names the node whose supervisor claimed it; a run whose
 * lease owner is provably dead is recovered at once, any other run only when its lease expires (an
 * owner this machine cannot see, or one that stopped renewing).
 *
 * Every node holds a shared lock on `<dataDir>/nodes/<node id>.lock` for as long as it lives, and
 * so does each of its task processes. The locks are SQLite's, which SQLite takes with POSIX
 * advisory locks (fcntl): the kernel drops them when a process ends, however it ends, and forked
 * children do not inherit them. A node is provably dead when an exclusive lock on its file can be
 * taken, which needs every holder gone: the node and its task processes, so that a task process
 * that outlived its supervisor for a moment is never running beside the attempt that takes over
 * from it. A missing file proves nothing (its node may run on another machine against a shared
 * metadata store), so such a lease waits for expiry.
 */

const NODES_DIR = 'nodes';
/** The characters a node id (and so a lock file's name) is made of. */
const NODE_ID = /^[A-Za-z0-9._-]+$/;
/** How long a starting node waits for another one to finish starting. */
const START_WAIT_MS = 60_000;

const lockPath = (dataDir: string, nodeId: string) => join(dataDir, NODES_DIR, `${nodeId}.lock`);

/** A fresh node id: the host and pid for people reading leases and logs, and random bytes so no id repeats. */
export function newNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
  return `${host}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Holds the shared lock on the node's file until the returned function is called or the process
 * ends. The node creates the file (`create`); its task processes join the lock of the file their
 * node made.
 */
export function holdNodeLock(dataDir: string, nodeId: string, how: { create: boolean }): () => void {
  if (!NODE_ID.test(nodeId)) throw new Error(`invalid node id '${nodeId}'`);
  mkdirSync(join(dataDir, NODES_DIR), { recursive: true });
  // A checker's exclusive attempt holds the file for a moment: a holder waits that out.
  const db = new Database(lockPath(dataDir, nodeId), { fileMustExist: !how.create, timeout: 5_000 });
  try {
    // The file is in rollback-journal mode, where a reader holds SHARED for as long as it keeps it;
    // in exclusive locking mode SQLite keeps it from the first read until the connection closes.
    if (how.create) db.exec('CREATE TABLE IF NOT EXISTS node (id TEXT)');
    db.pragma('locking_mode = EXCLUSIVE');
    db.prepare('SELECT count(*) FROM node').get();
  } catch (e) {
    db.close();
    throw e;
  }
  return () => {
    db.close();
    if (how.create) rmSync(lockPath(dataDir, nodeId), { force: true });
  };
}

/**
 * True when the node and all its task processes are gone (their lock file is there and nobody
 * holds it). False while any of them lives, and when no file says. The file stays: it is the proof
 * until the dead node's runs are recovered (see otherLiveNodes).
 */
export function nodeProvablyDead(dataDir: string, nodeId: string): boolean {
  if (!NODE_ID.test(nodeId)) return false;
  const path = lockPath(dataDir, nodeId);
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 0 });
  } catch {
    return false;
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw e;
  } finally {
    db.close();
  }
}

/**
 * The ids of the other nodes alive on this data dir. The files of dead ones are removed on the way,
 * except those of `leaseOwners` (their runs are still to be recovered).
 */
export function otherLiveNodes(dataDir: string, nodeId: string, leaseOwners: ReadonlySet<string>): string[] {
  let names: string[];
  try {
    names = readdirSync(join(dataDir, NODES_DIR));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.lock'))
    .map((n) => n.slice(0, -'.lock'.length))
    .filter((id) => {
      if (id === nodeId || !NODE_ID.test(id)) return false;
      if (!nodeProvablyDead(dataDir, id)) return true;
      if (!leaseOwners.has(id)) rmSync(lockPath(dataDir, id), { force: true });
      return false;
    });
}

/**
 * Runs `fn` (a node's start: joining the nodes, looking whether it is alone, opening the stores)
 * while no other node of this data dir is starting. A node that finds itself alone may remove what
 * interrupted writes left in the embedded object store; another node starting at the same moment
 * could otherwise be writing already.
 */
export async function whileStarting<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(join(dataDir, NODES_DIR), { recursive: true });
  const db = new Database(join(dataDir, NODES_DIR, 'starting'), { timeout: START_WAIT_MS });
  try {
    // Writes nothing: the exclusive lock is all it is for, and closing the connection ends it.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    return await fn();
  } finally {
    db.close();
  }
}
