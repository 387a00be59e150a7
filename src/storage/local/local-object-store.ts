// PLACEHOLDER, replaced by the embedded object store implementation.
import type { ObjectStore } from '../object-store.js';

export class LocalObjectStore {
  static async open(_rootDir: string): Promise<ObjectStore> {
    throw new Error('the embedded object store is not built yet');
  }
}
