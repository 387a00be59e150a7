import { setTimeout as sleep } from 'node:timers/promises';
import { isStoreUnavailable } from '../storage/store-unavailable.js';

/** The wait before the first try again; each further one waits twice as long, up to MAX_RETRY_WAIT_MS. */
const FIRST_RETRY_WAIT_MS = 100;
const MAX_RETRY_WAIT_MS = 2_000;

/**
 * Runs `call` for an attempt under a lease, calling it again, after a wait that doubles each time,
 * for as long as it fails because the metadata store is unreachable (see isStoreUnavailable) and
 * the lease holds: `leaseUntil` (this machine's clock) is read again at each failure, since
 * renewals move it on meanwhile. A PostgreSQL restart or a terminated connection thus delays the
 * attempt rather than failing it. Any other error is thrown, and so is an unreachable store past the
 * lease: the run may then be taken over by another node, and this attempt must stop.
 *
 * `call` must be safe to repeat when a failed try did commit (the connection broke after COMMIT):
 * the run's transitions are, being guarded by its lease owner and status.
 */
export async function whileLeaseHolds<T>(
  call: () => Promise<T>,
  leaseUntil: () => number,
  onRetry: (e: Error, waitMs: number) => void,
): Promise<T> {
  for (let wait = FIRST_RETRY_WAIT_MS; ; wait = Math.min(MAX_RETRY_WAIT_MS, wait * 2)) {
    try {
      return await call();
    } catch (e) {
      const left = leaseUntil() - Date.now();
      if (!isStoreUnavailable(e) || left <= 0) throw e;
      onRetry(e as Error, Math.min(wait, left));
      await sleep(Math.min(wait, left));
    }
  }
}
