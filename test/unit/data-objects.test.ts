/**
 * Output folders (data-objects.ts writeOutput): a new output replaces an earlier one under the same
 * prefix whole, so a reader that trusts `_SUCCESS` never reads a part of the earlier output, and
 * nothing under the prefix that is not an output part is touched.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { dataObjectsAt, writeOutput } from '../../src/storage/data-objects.js';
import { LocalObjectStore } from '../../src/storage/local/local-object-store.js';

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

const part = (name: string, text = name) => ({ name, body: bytes(text), contentType: 'text/csv' });

describe('writeOutput', () => {
  let root: string;
  let store: LocalObjectStore;

  beforeEach(async () => {
    root = join(mkdtempSync(join(tmpdir(), 'doppel-output-')), 'objects');
    store = await LocalObjectStore.open(root);
    await store.createBucket('bkt', '123456789012');
  });
  afterEach(async () => {
    await store.close();
    rmSync(join(root, '..'), { recursive: true, force: true });
  });

  const keys = async () => (await store.listObjects('bkt', { prefix: 'out/' })).objects.map((o) => o.key);

  it('removes the part files of an earlier output it does not rewrite, and nothing else under the prefix', async () => {
    await writeOutput(store, { bucket: 'bkt', key: 'out/' }, [part('part-00000.csv'), part('part-00001.csv'), part('part-00002.csv')]);
    for (const key of ['out/notes.txt', 'out/_doppel/incremental-state.bin', 'out/older/part-00001.csv', 'out/part-1.csv']) {
      await store.putObject('bkt', key, bytes('keep'));
    }
    const written = await writeOutput(store, { bucket: 'bkt', key: 'out' }, [part('part-00000.json', 'new')]);
    assert.deepEqual(written, ['s3://bkt/out/part-00000.json']);
    assert.deepEqual(await keys(), [
      'out/_SUCCESS',
      'out/_doppel/incremental-state.bin',
      'out/notes.txt',
      'out/older/part-00001.csv',
      'out/part-00000.json',
      'out/part-1.csv',
    ]);
    // Read as an input path, the folder is this output (and what the user put beside it).
    const data = (await dataObjectsAt(store, { bucket: 'bkt', key: 'out/' })).map((o) => o.key);
    assert.ok(!data.some((k) => /^out\/part-0000[0-2]\.csv$/.test(k)), data.join(', '));
  });

  it('takes the earlier marker away before it writes a part', async () => {
    await writeOutput(store, { bucket: 'bkt', key: 'out/' }, [part('part-00000.csv')]);
    let markerWhileWriting: boolean | undefined;
    const checking = async function* () {
      markerWhileWriting = (await store.headObject('bkt', 'out/_SUCCESS')) !== undefined;
      yield Buffer.from('x');
    };
    await writeOutput(store, { bucket: 'bkt', key: 'out/' }, [{ name: 'part-00000.csv', body: checking(), contentType: 'text/csv' }]);
    assert.equal(markerWhileWriting, false);
    assert.ok(await store.headObject('bkt', 'out/_SUCCESS'));
  });
});
