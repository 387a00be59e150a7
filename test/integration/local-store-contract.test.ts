/**
 * The embedded object store against the same ObjectStore contract as the external S3 adapter,
 * with no limitations: it is doppel's own S3 and must behave like S3.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { LocalObjectStore } from '../../src/storage/local/local-object-store.js';
import { objectStoreContract } from '../support/object-store-contract.js';

const root = mkdtempSync(join(tmpdir(), 'doppel-local-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

objectStoreContract('LocalObjectStore', () => LocalObjectStore.open(join(root, 'objects')));
