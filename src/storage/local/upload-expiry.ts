/**
 * Expiry of abandoned multipart uploads in the embedded store, as an S3 lifecycle rule's
 * AbortIncompleteMultipartUpload does: an upload initiated longer ago than the configured age is
 * aborted and its parts are removed from disk.
 */
import type { LocalObjectStore } from './local-object-store.js';
import type { Log } from '../../core/log.js';

/** Uploads are looked at every half of their maximum age, and at least hourly. */
const MAX_SWEEP_INTERVAL_MS = 60 * 60_000;

/** Expires uploads older than `maxAgeMs` now and periodically; returns what stops it. */
export function expireAbandonedUploads(store: LocalObjectStore, maxAgeMs: number, log: Log): () => void {
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const aborted = await store.abortUploadsInitiatedBefore(Date.now() - maxAgeMs);
      if (aborted > 0) log(`aborted ${aborted} multipart upload(s) initiated more than ${formatAge(maxAgeMs)} ago, removing their parts`);
    } catch (e) {
      log(`expiring abandoned multipart uploads failed: ${(e as Error).message}`, { level: 'warn' });
    } finally {
      sweeping = false;
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), Math.min(Math.max(maxAgeMs / 2, 100), MAX_SWEEP_INTERVAL_MS));
  timer.unref();
  return () => clearInterval(timer);
}

function formatAge(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 1 ? `${Number(hours.toFixed(2))} h` : `${Number((ms / 1000).toFixed(1))} s`;
}
