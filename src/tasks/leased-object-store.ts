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

/** Event-loop turns a write past the lease waits for renewals already sent to arrive. */
const LEASE_MESSAGE_TURNS = 3;

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
      return async (...args: unknown[]) => {
        // A task that computed for a while without yielding has not yet read the renewals its
        // supervisor sent meanwhile: they wait in the IPC channel, read once the event loop turns.
        for (let turn = 0; turn < LEASE_MESSAGE_TURNS && Date.now() >= leaseUntil(); turn++) {
          await new Promise((resolve) => setImmediate(resolve));
        }
        const until = leaseUntil();
        if (Date.now() >= until) {
          throw new LeaseExpired(`the run's lease expired at ${new Date(until).toISOString()}: it may run elsewhere now, so this attempt writes nothing more`);
        }
        return call.apply(target, args);
      };
    },
  });
}
