import { fork, type ChildProcess } from 'node:child_process';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MetadataStore } from '../storage/metadata-store.js';
import { jobKeyOf, type QueuedRun, type RunQueue, type TakeResult } from '../storage/redis/run-queue.js';
import type { TaskRunRecord } from '../storage/records.js';
import type { LeaseState, Release, TaskOutcome } from '../storage/task-queue-store.js';
import type { FromTaskProcess, TaskProcessConfig, ToTaskProcess } from './task-process-messages.js';
import type { TaskRunEvents } from './task-run-service.js';
import type { Log } from '../core/log.js';
import { runFields } from './run-log-fields.js';
import { loadMaxRetries, mayRetry } from './retry-budget.js';
import { whileLeaseHolds } from './lease-retry.js';

export interface SupervisorOptions {
  store: MetadataStore;
  /** The node this supervisor runs in (see storage/node-locks.ts): its runs' lease owner. */
  owner: string;
  /**
   * Whether the node owning some leases is known to be dead (its runs are recovered at once rather
   * than when their leases expire); false when that cannot be known.
   */
  ownerDead: (owner: string) => boolean;
  /**
   * Where this node takes runs from when nodes share a PostgreSQL database (BullMQ in Redis);
   * without it the supervisor claims the oldest waiting run straight from the store (the embedded
   * store, one machine).
   */
  runQueue?: RunQueue;
  /** Starts one task process (forkTaskProcess, or a stand-in in tests). */
  spawn: () => ChildProcess;
  /** How many task processes, each executing one run at a time (DOPPEL_WORKERS). */
  processes: number;
  /** Lease length; a run whose supervisor stops renewing it is recovered after this long. */
  leaseMs: number;
  /**
   * How often the queue is swept (expired deadlines, orphaned runs, runs to claim) when nothing woke
   * the supervisor; it is woken by enqueues in its own process, and by those of other processes
   * within NEW_RUNS_CHECK_MS.
   */
  pollMs: number;
  /** Milliseconds per minute of a transform's Timeout (60000 except in tests). */
  timeoutUnitMs: number;
  /** May an interrupted run start again (see resume-policy.ts)? */
  resumable: (run: TaskRunRecord) => boolean;
  log: Log;
  /**
   * Called when a task process is done with an attempt: `done` (it committed the outcome),
   * `stopped` (the supervisor stopped it: cancel, timeout, lost lease, shutdown) or `crashed`.
   */
  onAttemptEnded?: (run: TaskRunRecord, seconds: number, outcome: 'done' | 'stopped' | 'crashed') => void;
  /**
   * Cleans up what an attempt may have left behind, once its ending is written: after every
   * attempt this supervisor executed (committed by its task process, stopped, or its process died)
   * and every one it recovered (its node died or stopped renewing its lease, or its deadline passed
   * while nobody ran it). `run` is the run as that attempt claimed it. Returns the runs it asked to
   * stop (a find-matches run's parts, see endExecution).
   */
  afterAttempt?: (run: TaskRunRecord) => Promise<TaskRunRecord[]>;
}

/** A run this supervisor has claimed (#claim). */
interface Claimed {
  run: TaskRunRecord;
  leaseUntil: number;
  queueAheadMs: number;
}

/** Why the supervisor stops a run's task process; how the run then ends. */
type StopReason = 'cancel' | 'timeout' | 'lost' | 'shutdown';

/** A run being executed by one of this supervisor's task processes. */
interface Attempt {
  run: TaskRunRecord;
  process: TaskProcess;
  /** The run's deadline (kept on the queue's clock) on this machine's clock. */
  deadline: number;
  deadlineTimer?: NodeJS.Timeout;
  /** Set once the supervisor has decided to stop the run (its process is being killed). */
  stopping?: StopReason;
  /**
   * When the lease ends unless renewed, on this machine's clock: counted from before the claim or
   * renewal was sent, so it never ends later here than in the queue. The task process writes only before it.
   */
  leaseUntil: number;
  /** Set while a renewal of the lease is under way (being tried again while the store is unreachable). */
  renewing?: boolean;
  /** Set when the task process says it is committing the attempt's outcome: the run ending is its doing. */
  committing?: boolean;
  startedAt: number;
  /** Settles once the attempt is over and its ending is written. */
  ended: Promise<void>;
  end: () => void;
}

/** One task process and what the supervisor knows about it. */
interface TaskProcess {
  child: ChildProcess;
  ready: boolean;
  attempt?: Attempt;
  /** The transform of the last run it executed: its table may still be loaded there. */
  lastTransformId?: string;
  /** When it was last handed a run (0: never). */
  lastDispatchAt: number;
}

const DEFAULT_TIMEOUT_MINUTES = 2880;
/** How often running runs are checked for cancels made by another process and for deletion: a read. */
const WATCH_MS = 250;
/** How often an idle supervisor looks whether another process enqueued a run: one indexed read. */
const NEW_RUNS_CHECK_MS = 50;
/** The longest delay setTimeout takes; a later deadline is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a queue job whose run may not start yet (an import behind another of its transform) waits. */
const BLOCKED_RUN_WAIT_MS = 250;
/** How long a queue job waits after a failed look at its run (the store or Redis unreachable). */
const FAILED_LOOK_WAIT_MS = 1_000;
/** How often a queue job that has its run but no idle task process looks whether one became idle. */
const IDLE_PROCESS_CHECK_MS = 20;
/** Waiting runs announced to the queue at each sweep, oldest first. */
const ANNOUNCED_PER_SWEEP = 1_000;
/** A task process that dies before it is ready is started again after this long, doubling up to a minute. */
const RESPAWN_DELAY_MS = 500;
const MAX_RESPAWN_DELAY_MS = 60_000;

/**
 * Executes queued task runs in task processes. The supervisor lives in a node process (`doppel
 * serve` or `doppel worker`) and does the bookkeeping only: it claims runs from the durable queue,
 * holds their leases (renewing them on its own timers, which a busy handler cannot starve), hands
 * each run to an idle task process and watches it. A cancel or a timeout kills the run's process
 * (its effects are all-or-nothing, so nothing is half-done) and a fresh one takes its place; a
 * process that dies by itself interrupts its run, which is resumed or failed. The task process
 * commits a finished run itself.
 *
 * Everything it does goes through the TaskQueueStore and the task processes' messages, so any
 * number of supervisors, in any number of nodes, share one queue: each run is claimed by one of
 * them under a lease, and a node's death is noticed through `ownerDead` or the lease's expiry.
 */
export class TaskSupervisor implements TaskRunEvents {
  readonly owner: string;
  readonly #opts: SupervisorOptions;
  readonly #processes = new Set<TaskProcess>();
  readonly #attempts = new Map<string, Attempt>();
  /** Run endings in progress (commits after a process exited), awaited by stop(). */
  readonly #endings = new Set<Promise<void>>();
  readonly #timers: NodeJS.Timeout[] = [];
  #respawnDelay = RESPAWN_DELAY_MS;
  #stopped = true;
  #sweeping: Promise<void> | undefined;
  #sweepAgain = false;
  /** The newest waiting run at the last look (see #checkNewRuns). */
  #newestWaiting = 0;
  /** Taking jobs from opts.runQueue, until stop(). */
  #consumer: { close(): Promise<void> } | undefined;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    this.owner = opts.owner;
  }

  /**
   * Recovers runs left behind by dead nodes (resumed or failed, never left RUNNING), starts the task
   * processes and begins looking for work.
   */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#recoverOrphans();
    for (let i = 0; i < this.#opts.processes; i++) this.#spawn();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#opts.pollMs, () => this.#wake());
    every(WATCH_MS, () => void this.#watch());
    const { runQueue } = this.#opts;
    if (runQueue) {
      this.#consumer = runQueue.consume({ concurrency: this.#opts.processes, lockMs: this.#opts.leaseMs, take: (run) => this.#take(runQueue, run) });
    } else {
      every(NEW_RUNS_CHECK_MS, () => void this.#checkNewRuns());
    }
    every(Math.max(20, Math.floor(this.#opts.leaseMs / 3)), () => void this.#renew());
  }

  /** A run was enqueued (by this node): look for work now rather than at the next poll. */
  enqueued(): void {
    this.#wake();
  }

  /** Looks for work: after an enqueue, when a task process becomes idle, and every pollMs. */
  #wake(): void {
    if (this.#stopped) return;
    if (this.#sweeping) {
      this.#sweepAgain = true;
      return;
    }
    this.#sweeping = this.#fill()
      .catch((e) => this.#opts.log(`task supervisor: ${(e as Error).stack ?? e}`, { level: 'error' }))
      .finally(() => {
        this.#sweeping = undefined;
        if (this.#sweepAgain) {
          this.#sweepAgain = false;
          this.#wake();
        }
      });
  }

  /** Wakes the supervisor when a run was enqueued since the last look and a task process is idle to take it. */
  async #checkNewRuns(): Promise<void> {
    if (this.#sweeping || this.#idleProcesses().length === 0) return;
    try {
      const newest = await this.#opts.store.tasks.newestWaiting();
      if (newest !== this.#newestWaiting) {
        this.#newestWaiting = newest;
        if (newest > 0) this.#wake();
      }
    } catch (e) {
      this.#opts.log(`task supervisor: looking for new runs failed: ${(e as Error).message}`, { level: 'error' });
    }
  }

  /** A cancel was recorded for this run (by this node): its process is stopped now, not at the next check. */
  cancelRequested(taskRunId: string): void {
    const attempt = this.#attempts.get(taskRunId);
    if (attempt) this.#stop(attempt, 'cancel');
  }

  async #fill(): Promise<void> {
    const { store } = this.#opts;
    await this.#cleanUpAfter(await store.tasks.expireDeadlines(await store.tasks.clock()));
    await this.#recoverOrphans();
    if (this.#opts.runQueue) {
      // Runs whose job is missing (announcing failed, or they went back to the queue elsewhere) get one.
      await this.#opts.runQueue.announce(await store.tasks.waiting(ANNOUNCED_PER_SWEEP));
      return;
    }
    while (!this.#stopped && this.#idleProcesses().length > 0) {
      const claimed = await this.#claim();
      if (!claimed) return;
      await this.#dispatch(claimed);
    }
  }

  /**
   * Claims the oldest waiting run (with `only`, that run) under a lease on the queue's clock; the
   * lease's end on this machine's clock is counted from before the claim was sent. `queueAheadMs`:
   * how far the queue's clock is ahead of this machine's (behind when negative), which the run's
   * deadline is moved by.
   */
  async #claim(only?: { id: string }): Promise<Claimed | undefined> {
    const { store, leaseMs } = this.#opts;
    const sentAt = Date.now();
    const queueNow = await store.tasks.clock();
    const run = await store.tasks.claimNext(this.owner, queueNow, leaseMs, only);
    return run && { run, leaseUntil: sentAt + leaseMs, queueAheadMs: queueNow - sentAt };
  }

  /**
   * What the queue's job for `queued` leads to: the run is claimed and executed here when it waits
   * in this queueing of it and a task process is idle, and the job is done once the run has ended or
   * moved on to another queueing (which has a job of its own). A run another node (or a parent run,
   * executing its parts) holds is looked at again when that lease would expire, in case its holder
   * died.
   */
  async #take(runQueue: RunQueue, queued: QueuedRun): Promise<TakeResult> {
    const { store } = this.#opts;
    try {
      for (;;) {
        if (this.#stopped) return { done: false, againInMs: 0 };
        const run = await store.tasks.get(queued, queued.transformId, queued.id);
        if (!run || !['STARTING', 'RUNNING', 'STOPPING'].includes(run.status)) return { done: true };
        if (jobKeyOf(run) !== queued.key) {
          if (run.status === 'STARTING') await runQueue.announce([run]);
          return { done: true };
        }
        if (run.status !== 'STARTING') {
          const now = await store.tasks.clock();
          return { done: false, againInMs: Math.max(0, (run.leaseExpiresAt ?? now) - now) + this.#opts.pollMs };
        }
        if (this.#idleProcesses().length === 0) {
          await new Promise((resolve) => setTimeout(resolve, IDLE_PROCESS_CHECK_MS));
          continue;
        }
        const claimed = await this.#claim({ id: run.id });
        if (!claimed) return { done: false, againInMs: BLOCKED_RUN_WAIT_MS };
        const attempt = await this.#dispatch(claimed);
        await attempt?.ended;
      }
    } catch (e) {
      this.#opts.log(`task run ${queued.id}: looking at its queue job failed: ${(e as Error).message}`, { level: 'error', taskRunId: queued.id });
      return { done: false, againInMs: FAILED_LOOK_WAIT_MS };
    }
  }

  #idleProcesses(): TaskProcess[] {
    return [...this.#processes].filter((p) => p.ready && !p.attempt && p.child.connected);
  }

  /**
   * Hands a claimed run, leased until `leaseUntil` (this machine's clock), to an idle process: the
   * one that ran the same transform last, else the one idle the longest (whose table is the least
   * likely to be wanted again).
   */
  async #dispatch({ run, leaseUntil, queueAheadMs }: Claimed): Promise<Attempt | undefined> {
    const { store, timeoutUnitMs } = this.#opts;
    const leased = <T>(call: () => Promise<T>) => this.#whileLeaseHolds(run, 'starting', call, () => leaseUntil);
    const minutes = await leased(() => this.#timeoutMinutes(run));
    if (minutes === undefined) return undefined; // its transform or crawler was deleted meanwhile: its runs went with it
    const deadline = run.deadlineAt ?? run.startedOn + minutes * timeoutUnitMs;
    if (run.deadlineAt === undefined) await leased(() => store.tasks.setDeadline(run.id, deadline));
    const idle = this.#idleProcesses().sort((a, b) => a.lastDispatchAt - b.lastDispatchAt);
    const process = idle.find((p) => p.lastTransformId === run.transformId) ?? idle[0];
    if (!process) {
      // The process that was idle when the run was claimed has exited since: the run waits for the next.
      await leased(async () => store.tasks.release(run.id, this.owner, await store.tasks.clock(), { resume: true, interrupted: false }));
      return undefined;
    }
    let end = () => undefined as void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const attempt: Attempt = { run, process, deadline: deadline - queueAheadMs, leaseUntil, startedAt: performance.now(), ended, end };
    process.attempt = attempt;
    process.lastTransformId = run.transformId;
    process.lastDispatchAt = Date.now();
    this.#attempts.set(run.id, attempt);
    this.#armDeadline(attempt);
    process.child.send({ type: 'run', run, owner: this.owner, leaseUntil } satisfies ToTaskProcess);
    const again = run.attempt > 1 ? ` (attempt ${run.attempt})` : '';
    this.#opts.log(`task run ${run.id} (${run.taskType}) started in task process ${process.child.pid}${again}`, { ...runFields(run), pid: process.child.pid! });
    return attempt;
  }

  #armDeadline(attempt: Attempt): void {
    const wait = attempt.deadline - Date.now();
    attempt.deadlineTimer = setTimeout(
      () => (wait > MAX_TIMER_MS ? this.#armDeadline(attempt) : this.#stop(attempt, 'timeout')),
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }

  /** Cancels made elsewhere and deleted runs: a read, a few times a second. */
  async #watch(): Promise<void> {
    if (this.#attempts.size === 0) return;
    try {
      const states = await this.#opts.store.tasks.leaseStates(this.owner, [...this.#attempts.keys()]);
      for (const [id, state] of states) this.#react(id, state);
    } catch (e) {
      this.#opts.log(`task supervisor: checking running runs failed: ${(e as Error).message}`, { level: 'error' });
    }
  }

  async #renew(): Promise<void> {
    await Promise.all([...this.#attempts.values()].map((attempt) => this.#renewLease(attempt)));
  }

  /**
   * Renews one attempt's lease, tried again while the store is unreachable and the lease holds (a
   * renewal still being tried is not started twice).
   */
  async #renewLease(attempt: Attempt): Promise<void> {
    if (attempt.renewing) return;
    attempt.renewing = true;
    const { store, leaseMs } = this.#opts;
    const id = attempt.run.id;
    try {
      const { state, sentAt } = await this.#whileLeaseHolds(attempt.run, 'renewing its lease', async () => {
        const sentAt = Date.now();
        return { state: await store.tasks.renewLease(id, this.owner, await store.tasks.clock(), leaseMs), sentAt };
      }, () => attempt.leaseUntil);
      if (this.#attempts.get(id) !== attempt) return;
      if (state === 'held') {
        attempt.leaseUntil = sentAt + leaseMs;
        if (attempt.process.child.connected) attempt.process.child.send({ type: 'lease', runId: id, until: attempt.leaseUntil } satisfies ToTaskProcess);
      }
      this.#react(id, state);
    } catch (e) {
      this.#opts.log(`task run ${id}: lease renewal failed: ${(e as Error).message}`, { level: 'warn', ...runFields(attempt.run) });
      // Past its lease another node may have taken the run over: this attempt stops rather than
      // carry on beside it.
      if (this.#attempts.get(id) === attempt && Date.now() >= attempt.leaseUntil) {
        this.#opts.log(`task run ${id}: its lease could not be renewed before it expired; stopping the attempt`, { level: 'warn', ...runFields(attempt.run) });
        this.#stop(attempt, 'lost');
      }
    } finally {
      attempt.renewing = false;
    }
  }

  /** whileLeaseHolds (see lease-retry.ts) for a step of the supervisor's on `run`, each try again logged. */
  #whileLeaseHolds<T>(run: TaskRunRecord, step: string, call: () => Promise<T>, leaseUntil: () => number): Promise<T> {
    return whileLeaseHolds(call, leaseUntil, (e, waitMs) =>
      this.#opts.log(`task run ${run.id}: ${step} failed, the metadata store being unreachable (${e.message}); trying again in ${waitMs} ms`, {
        level: 'warn',
        ...runFields(run),
      }),
    );
  }

  #react(id: string, state: LeaseState): void {
    const attempt = this.#attempts.get(id);
    if (!attempt || state === 'held') return;
    // 'ended' by the attempt's own commit: its "done" is on the way. Ended otherwise, another node
    // settled the run (this node was paused or cut off past its lease), and the attempt must stop.
    if (state === 'ended' && attempt.committing) return;
    if (state === 'ended') this.#opts.log(`task run ${id} was ended elsewhere while this node held it: stopping the attempt`, { level: 'warn', ...runFields(attempt.run) });
    this.#stop(attempt, state === 'cancel-requested' ? 'cancel' : 'lost');
  }

  /** Kills the run's process; how the run ends is settled when the process has exited (#ended). */
  #stop(attempt: Attempt, reason: StopReason): void {
    if (attempt.stopping) return;
    attempt.stopping = reason;
    clearTimeout(attempt.deadlineTimer);
    attempt.process.child.kill('SIGKILL');
  }

  #spawn(): void {
    const child = this.#opts.spawn();
    const process: TaskProcess = { child, ready: false, lastDispatchAt: 0 };
    this.#processes.add(process);
    child.on('message', (message: FromTaskProcess) => this.#onMessage(process, message));
    child.on('error', (e) => this.#opts.log(`task process ${child.pid}: ${e.message}`, { level: 'error', pid: child.pid! }));
    child.on('exit', (code, signal) => this.#onExit(process, code, signal));
  }

  #onMessage(process: TaskProcess, message: FromTaskProcess): void {
    switch (message.type) {
      case 'ready':
        process.ready = true;
        this.#respawnDelay = RESPAWN_DELAY_MS;
        this.#wake();
        return;
      case 'committing': {
        const attempt = process.attempt;
        if (attempt && attempt.run.id === message.runId) attempt.committing = true;
        return;
      }
      case 'done': {
        const attempt = process.attempt;
        // A run being stopped is settled when its process has exited, whatever it says before.
        if (!attempt || attempt.run.id !== message.runId || attempt.stopping) return;
        process.attempt = undefined;
        this.#attempts.delete(attempt.run.id);
        clearTimeout(attempt.deadlineTimer);
        this.#attemptEnded(attempt, 'done');
        // An attempt that failed may not have cleaned up after itself (its lease expired, say).
        const cleanup = this.#cleanUpAfter([attempt.run]).finally(() => this.#endings.delete(cleanup));
        this.#endings.add(cleanup);
        attempt.end();
        this.#wake();
        return;
      }
      case 'log':
        this.#opts.log(message.message, { ...message.fields, pid: process.child.pid! });
        return;
    }
  }

  #onExit(process: TaskProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.#processes.delete(process);
    const attempt = process.attempt;
    if (attempt) {
      this.#attempts.delete(attempt.run.id);
      clearTimeout(attempt.deadlineTimer);
      this.#attemptEnded(attempt, attempt.stopping ? 'stopped' : 'crashed');
      // Written while the lease the attempt last renewed holds, tried again while the store is unreachable.
      const settle = () => this.#ended(attempt, code, signal);
      const ending = this.#whileLeaseHolds(attempt.run, 'writing how its attempt ended', settle, () => attempt.leaseUntil)
        .catch((e) => this.#opts.log(`task run ${attempt.run.id}: ${(e as Error).stack ?? e}`, { level: 'error', ...runFields(attempt.run) }))
        .finally(() => {
          this.#endings.delete(ending);
          attempt.end();
          this.#wake();
        });
      this.#endings.add(ending);
    } else if (!this.#stopped) {
      this.#opts.log(`task process ${process.child.pid} exited (${signal ?? `code ${code}`}) while idle`, { level: 'warn', pid: process.child.pid! });
    }
    if (this.#stopped) return;
    if (process.ready) {
      this.#spawn();
    } else {
      // It died while starting: starting it again at once could loop as fast as it dies.
      const delay = this.#respawnDelay;
      this.#respawnDelay = Math.min(MAX_RESPAWN_DELAY_MS, delay * 2);
      const t = setTimeout(() => {
        if (!this.#stopped) this.#spawn();
      }, delay);
      t.unref();
    }
  }

  /** Task processes started and ready to take runs, of the number this supervisor keeps. */
  processCounts(): { ready: number; wanted: number } {
    let ready = 0;
    for (const p of this.#processes) if (p.ready && p.child.connected) ready++;
    return { ready, wanted: this.#opts.processes };
  }

  #attemptEnded(attempt: Attempt, outcome: 'done' | 'stopped' | 'crashed'): void {
    this.#opts.onAttemptEnded?.(attempt.run, (performance.now() - attempt.startedAt) / 1000, outcome);
  }

  /** Settles a run whose process has exited: the stop the supervisor asked for, or a crash. */
  async #ended(attempt: Attempt, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const { store } = this.#opts;
    const { run } = attempt;
    const now = await store.tasks.clock();
    const finish = (outcome: TaskOutcome) => store.tasks.finish(run.id, this.owner, outcome, now);
    const release = (how: Release) => store.tasks.release(run.id, this.owner, now, how);
    let settled: boolean;
    switch (attempt.stopping) {
      case 'cancel':
        settled = await finish({ status: 'STOPPED' });
        break;
      case 'timeout':
        settled = await finish({ status: 'TIMEOUT', errorString: await this.#timeoutMessage(run) });
        break;
      case 'lost':
        // Another node settled the run, and cleans up after it.
        return;
      case 'shutdown':
        // Handed back, not interrupted: the run did nothing wrong and starts over at the next start.
        settled = await release(
          this.#opts.resumable(run)
            ? { resume: true, interrupted: false }
            : { resume: false, errorString: 'Task run was stopped by a server shutdown and cannot be resumed; start it again.' },
        );
        break;
      case undefined: {
        const died = `its task process (pid ${attempt.process.child.pid}) ${deathOf(code, signal)}`;
        const how = await this.#afterDeath(run, died);
        settled = await release(how);
        if (settled) {
          this.#opts.log(`task run ${run.id} (${run.taskType}) interrupted: ${died}; ${how.resume ? 'resumed' : 'failed'}`, { level: 'warn', ...runFields(run) });
        }
        break;
      }
    }
    if (settled) await this.#cleanUpAfter([run]);
  }

  /** Cleans up after attempts that have ended (opts.afterAttempt); never throws. */
  async #cleanUpAfter(runs: readonly TaskRunRecord[]): Promise<void> {
    const { afterAttempt } = this.#opts;
    if (!afterAttempt) return;
    for (const run of runs) {
      try {
        for (const stopping of await afterAttempt(run)) this.cancelRequested(stopping.id);
      } catch (e) {
        // What is left is removed by the run's next attempt, or the next run writing to its output.
        this.#opts.log(`task run ${run.id}: cleaning up after its attempt ${run.attempt} failed: ${(e as Error).message}`, { level: 'warn', ...runFields(run) });
      }
    }
  }

  /**
   * The run's Timeout in minutes: its transform's, or the default for a crawl (a crawler has no
   * Timeout); undefined when the transform or crawler is gone.
   */
  async #timeoutMinutes(run: TaskRunRecord): Promise<number | undefined> {
    const { store } = this.#opts;
    if (run.taskType === 'CRAWL') {
      return (await store.crawlers.getCrawler(run, run.properties['CrawlerName'] as string)) ? DEFAULT_TIMEOUT_MINUTES : undefined;
    }
    const transform = await store.getTransform(run, run.transformId);
    return transform ? Number(transform.doc['Timeout'] ?? DEFAULT_TIMEOUT_MINUTES) : undefined;
  }

  async #timeoutMessage(run: TaskRunRecord): Promise<string> {
    const minutes = (await this.#timeoutMinutes(run)) ?? DEFAULT_TIMEOUT_MINUTES;
    return run.taskType === 'CRAWL'
      ? `Crawl exceeded the longest a crawl may run, ${minutes} minute(s).`
      : `Task run exceeded the transform's Timeout of ${minutes} minute(s).`;
  }

  /**
   * How a run goes on when what executed its attempt died (`died` says what: its task process, or
   * its node): the way Glue treats a worker that died, it starts again as a new attempt while its
   * MaxRetries allows one, the same budget a failed attempt draws on (see retry-budget.ts).
   */
  async #afterDeath(run: TaskRunRecord, died: string): Promise<Release> {
    const maxRetries = await loadMaxRetries(this.#opts.store, run);
    return this.#canResume(run, maxRetries)
      ? { resume: true, interrupted: true }
      : { resume: false, errorString: this.#diedMessage(run, died, maxRetries) };
  }

  #canResume(run: TaskRunRecord, maxRetries: number): boolean {
    return this.#opts.resumable(run) && mayRetry(run, maxRetries);
  }

  #diedMessage(run: TaskRunRecord, died: string, maxRetries: number): string {
    if (!this.#opts.resumable(run)) return `Task run failed: ${died}, and runs of this kind cannot be resumed; start it again.`;
    if (run.taskType === 'CRAWL') return `Crawl failed: ${died}. A crawl is not retried (crawlers have no MaxRetries); start it again.`;
    return `Task run failed: ${died}. That was attempt ${run.attempt}, and MaxRetries (${maxRetries}) is used up.`;
  }

  /**
   * Recovers the runs of nodes known to be dead and those whose lease expired (their node stopped
   * renewing: it vanished, or this machine cannot see it), this node's own among them when it no
   * longer executes them (their ending could not be written: the store was unreachable).
   */
  async #recoverOrphans(): Promise<void> {
    const { store, ownerDead } = this.#opts;
    const deadOwners = (await store.tasks.leaseOwners()).filter((o) => o !== this.owner && ownerDead(o));
    const recovered = await store.tasks.recoverOrphans({
      now: await store.tasks.clock(),
      deadOwners,
      self: { owner: this.owner, executing: [...this.#attempts.keys()] },
      settle: (run) =>
        this.#afterDeath(
          run,
          run.leaseOwner === this.owner
            ? 'the ending of its attempt could not be written (the metadata store was unreachable)'
            : `the doppel node running it (${run.leaseOwner}) died or stopped renewing its lease`,
        ),
    });
    if (recovered.length > 0) {
      const from = deadOwners.length > 0 ? ` of dead node(s) ${deadOwners.join(', ')} or` : '';
      this.#opts.log(`recovered ${recovered.length} task run(s)${from} whose lease expired`, { level: 'warn' });
    }
    await this.#cleanUpAfter(recovered);
  }

  /**
   * Stops claiming and stops every task process; the runs they were executing go back to the queue
   * without counting an interruption (they resume at the next start when their kind allows it).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#sweeping;
    const exits = [...this.#processes].map(
      (p) => new Promise<void>((resolve) => (p.child.exitCode !== null || p.child.signalCode !== null ? resolve() : p.child.once('exit', () => resolve()))),
    );
    for (const attempt of this.#attempts.values()) attempt.stopping ??= 'shutdown';
    for (const p of this.#processes) p.child.kill('SIGKILL');
    await Promise.all(exits);
    await Promise.all([...this.#endings]);
    await this.#consumer?.close();
  }
}

/** How a process ended, for an ErrorString: the memory hint where running out of it is the likely cause. */
function deathOf(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGKILL') {
    return 'was killed by SIGKILL, most often the system running out of memory (the kernel\'s OOM killer sends SIGKILL)';
  }
  if (signal === 'SIGABRT' || code === 134) return 'aborted, most often because it ran out of memory (its heap limit)';
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * Forks a task process (task-process.ts) for the given configuration, with the environment `env`
 * (S3 settings). Its heap may grow to three quarters of the machine's (or container's) memory: a
 * run holds a whole table, millions of rows, in one process. It shares the server's stdout and stderr.
 */
export function forkTaskProcess(config: TaskProcessConfig, env: NodeJS.ProcessEnv): ChildProcess {
  const constrained = process.constrainedMemory?.();
  const memory = constrained && constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  const heapMb = Math.max(512, Math.floor((memory * 0.75) / 2 ** 20));
  return fork(fileURLToPath(new URL('./task-process.js', import.meta.url)), [JSON.stringify(config)], {
    env,
    execArgv: [`--max-old-space-size=${heapMb}`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
