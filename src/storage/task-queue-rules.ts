/**
 * The task queue's rules that are not SQL, shared by both dialects' TaskQueueStore so that a run
 * moves through its statuses the same way whichever store holds it.
 */
import type { TaskRunRecord, TaskStatus } from './records.js';
import type { LeaseState, Release, TaskOutcome } from './task-queue-store.js';

/** Why an appending import fails when its base generation is no longer the transform's labels. */
export const LABELS_CHANGED_MEANWHILE =
  "The transform's labels changed while this import ran (another import finished first), so its labels were not stored; start it again.";

/** The message of a run whose deadline passed while nobody ran it. */
export const DEADLINE_PASSED = 'Task run exceeded the timeout of its transform.';

/** A cancel that raced with completion wins only if the handler did not finish cleanly. */
export const finishedStatus = (run: TaskRunRecord, outcome: TaskOutcome): TaskStatus =>
  run.status === 'STOPPING' && outcome.status !== 'SUCCEEDED' ? 'STOPPED' : outcome.status;

/** The error string kept with a terminal status: only failures and timeouts have one. */
export const errorOf = (status: TaskStatus, errorString: string | undefined): string | null =>
  status === 'FAILED' || status === 'TIMEOUT' ? (errorString ?? null) : null;

/** How long the current attempt has run, for a run whose owner is still there to say so. */
export const spentSince = (run: TaskRunRecord, now: number): number =>
  run.runningSince !== undefined ? Math.max(0, now - run.runningSince) : 0;

/**
 * How long an orphaned attempt ran: its owner was last seen alive when it last renewed the lease,
 * so the attempt counts until then, not until whenever the orphan is found (maybe a restart later).
 */
export function ranUntilLastSeen(run: TaskRunRecord, now: number): number {
  if (run.runningSince === undefined) return 0;
  return Math.max(0, Math.min(now, run.leaseRenewedAt ?? run.runningSince) - run.runningSince);
}

/** How a run stands for the owner that claimed it (see LeaseState). */
export function leaseStateOf(run: Pick<TaskRunRecord, 'status' | 'leaseOwner'> | undefined, owner: string): LeaseState {
  if (!run) return 'lost';
  if (run.status !== 'RUNNING' && run.status !== 'STOPPING') return 'ended';
  if (run.leaseOwner !== owner) return 'lost';
  return run.status === 'STOPPING' ? 'cancel-requested' : 'held';
}

/** How each RUNNING orphan is to end (recoverOrphans' `settle`), by run id, for the attempt it was decided for. */
export type SettledOrphans = Map<string, { attempt: number; how: Release }>;

/**
 * Decides how the RUNNING orphans found by a first read end, before the writing transaction (the
 * decision may read the store: a run's MaxRetries).
 */
export async function settleOrphans(found: TaskRunRecord[], settle: (run: TaskRunRecord) => Promise<Release>): Promise<SettledOrphans> {
  const settled: SettledOrphans = new Map();
  for (const run of found) if (run.status === 'RUNNING') settled.set(run.id, { attempt: run.attempt, how: await settle(run) });
  return settled;
}

/**
 * The decision for an orphan found again by the writing transaction; undefined when none was made
 * for this attempt of it (it became an orphan after the first read): the next look settles it.
 */
export const settledFor = (settled: SettledOrphans, run: TaskRunRecord): Release | undefined => {
  const decided = settled.get(run.id);
  return decided?.attempt === run.attempt ? decided.how : undefined;
};
