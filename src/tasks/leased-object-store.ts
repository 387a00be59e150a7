import type { ObjectStore } from '../storage/object-store.js';

/** The calls that change what the object store holds. */
const WRITES: ReadonlySet<keyof ObjectStore> = new Set<keyof ObjectStore>([
  'createBucket',
  'deleteBucket',
  'putObject',
  'deleteObject',
  'putObjectTagging',
  'createMultipartUpload',
  'uploadPart',
  'completeMultipartUpload',
  'abortMultipartUpload',
]);

/** A write refused because the attempt's lease may have passed to another node. */
export class LeaseExpired extends Error {
  override readonly name = 'LeaseExpired';
}

/**
 * The object store as an attempt under a lease writes to it: every write first checks that the
 * lease is still held by the attempt's own clock (`leaseUntil`, moved on each time the supervisor
 * renews it). An attempt whose node was paused or cut off from the database past its lease may
 * find its run taken over (failed, stopped, or succeeded by another attempt): its writes would
 * land in an output that is already finished, so they are refused instead.
 */
export function leasedObjectStore(store: ObjectStore, leaseUntil: () => number): ObjectStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const call = value as (...args: unknown[]) => unknown;
      if (!WRITES.has(prop as keyof ObjectStore)) return call.bind(target);
      return (...args: unknown[]) => {
        const until = leaseUntil();
        if (Date.now() >= until) {
          throw new LeaseExpired(`the run's lease expired at ${new Date(until).toISOString()}: it may run elsewhere now, so this attempt writes nothing more`);
        }
        return call.apply(target, args);
      };
    },
  });
}
