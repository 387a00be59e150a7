import { randomUUID } from 'node:crypto';
import type { MetadataStore } from '../storage/metadata-store.js';
import type { TaskRunRecord } from '../storage/records.js';
import type { TaskOutcome } from '../storage/task-queue-store.js';
import type { TaskHandlers } from './task-handler.js';

export interface WorkerPoolOptions {
  store: MetadataStore;
  handlers: TaskHandlers;
  /** How many runs this process executes at once. */
  concurrency: number;
  /** Lease length; a run whose worker stops renewing it is recovered after this long. */
  leaseMs: number;
  /** How often an idle worker looks for queued runs (it is also woken on every enqueue). */
  pollMs: number;
  /** Milliseconds per minute of a transform's Timeout (60000 except in tests). */
  timeoutUnitMs: number;
  /** An interrupted run is put back in the queue at most this many times, then it fails. */
  maxInterruptions: number;
  log?: (message: string) => void;
}

type AbortReason = 'cancel' | 'timeout' | 'lost' | 'shutdown';

const DEFAULT_TIMEOUT_MINUTES = 2880;

/**
 * Executes queued task runs in this process. Each claimed run is leased; the lease is renewed
 * while the handler works, which is also how a cancel request or a lost lease reaches it.
 */
export class TaskWorkerPool {
  readonly owner = `worker-${randomUUID()}`;
  readonly #opts: WorkerPoolOptions;
  readonly #running = new Map<string, AbortController>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;
  #stopped = true;
  #idle: Promise<void> = Promise.resolve();

  constructor(opts: WorkerPoolOptions) {
    this.#opts = opts;
  }

  /**
   * Recovers runs left behind by a previous process (resumed or failed, never left RUNNING), then
   * starts polling. `previousOwnersDead` is true for the embedded single-node store, where no other
   * process can hold a lease, so every leased run is an orphan right now.
   */
  async start(previousOwnersDead: boolean): Promise<void> {
    this.#stopped = false;
    await this.#recover(previousOwnersDead);
    this.#timer = setInterval(() => this.wake(), this.#opts.pollMs);
    this.#timer.unref();
    this.wake();
  }

  /** Looks for work now (called after every enqueue). */
  wake(): void {
    if (this.#stopped || this.#sweeping) return;
    this.#sweeping = true;
    this.#idle = this.#fill()
      .catch((e) => this.#opts.log?.(`task worker: ${(e as Error).stack ?? e}`))
      .finally(() => {
        this.#sweeping = false;
      });
  }

  async #fill(): Promise<void> {
    const { store } = this.#opts;
    const now = Date.now();
    await store.tasks.expireDeadlines(now);
    await this.#recoverExpired(now);
    while (!this.#stopped && this.#running.size < this.#opts.concurrency) {
      const run = await store.tasks.claimNext(this.owner, Date.now(), this.#opts.leaseMs);
      if (!run) return;
      void this.#execute(run);
    }
  }

  async #recover(allLeasedRunsAreOrphans: boolean): Promise<void> {
    const n = await this.#opts.store.tasks.recoverOrphans({
      now: allLeasedRunsAreOrphans ? Number.MAX_SAFE_INTEGER : Date.now(),
      canResume: (run) => this.#canResume(run),
      failMessage: (run) => this.#interruptedMessage(run),
    });
    if (n > 0) this.#opts.log?.(`recovered ${n} task run(s) interrupted by a previous shutdown`);
  }

  async #recoverExpired(now: number): Promise<void> {
    await this.#opts.store.tasks.recoverOrphans({
      now,
      canResume: (run) => this.#canResume(run),
      failMessage: (run) => this.#interruptedMessage(run),
    });
  }

  #canResume(run: TaskRunRecord): boolean {
    return (
      run.interruptions < this.#opts.maxInterruptions &&
      this.#opts.handlers[run.taskType].resumable(run)
    );
  }

  #interruptedMessage(run: TaskRunRecord): string {
    return run.interruptions >= this.#opts.maxInterruptions
      ? `Task run was interrupted ${run.interruptions + 1} times (server restart or crash) and was not resumed again.`
      : 'Task run was interrupted by a server restart or crash and cannot be resumed; start it again.';
  }

  async #execute(run: TaskRunRecord): Promise<void> {
    const { store, handlers, leaseMs, timeoutUnitMs } = this.#opts;
    const controller = new AbortController();
    this.#running.set(run.id, controller);
    const abort = (reason: AbortReason) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const timers: NodeJS.Timeout[] = [];
    try {
      const transform = await store.getTransform(run, run.transformId);
      if (!transform) return; // deleted meanwhile: its runs went with it
      const minutes = Number(transform.doc['Timeout'] ?? DEFAULT_TIMEOUT_MINUTES);
      const deadline = run.deadlineAt ?? run.startedOn + minutes * timeoutUnitMs;
      if (run.deadlineAt === undefined) await store.tasks.setDeadline(run.id, deadline);
      timers.push(setTimeout(() => abort('timeout'), Math.max(0, deadline - Date.now())));
      timers.push(
        setInterval(() => {
          store.tasks
            .renewLease(run.id, this.owner, Date.now(), leaseMs)
            .then((state) => {
              if (state === 'cancel-requested') abort('cancel');
              else if (state === 'lost') abort('lost');
            })
            .catch((e) => this.#opts.log?.(`lease renewal failed: ${(e as Error).message}`));
        }, Math.max(20, Math.floor(leaseMs / 3))),
      );
      // A cancel that arrived between claim and now.
      if ((await store.tasks.renewLease(run.id, this.owner, Date.now(), leaseMs)) !== 'held') {
        abort('cancel');
      }

      const outcome = await this.#outcomeOf(run, transform.doc, controller, handlers);
      const maxRetries = Number(transform.doc['MaxRetries'] ?? 0);
      if (outcome?.status === 'FAILED' && run.attempt <= maxRetries) {
        // The transform allows another attempt: back to the queue instead of FAILED.
        if (await store.tasks.retry(run.id, this.owner, Date.now())) {
          this.#opts.log?.(`task run ${run.id} failed (${outcome.errorString}); retrying`);
          return;
        }
      }
      if (outcome) await store.tasks.finish(run.id, this.owner, outcome, Date.now());
    } catch (e) {
      this.#opts.log?.(`task run ${run.id}: ${(e as Error).stack ?? e}`);
    } finally {
      for (const t of timers) clearTimeout(t);
      this.#running.delete(run.id);
      if (!this.#stopped) this.wake();
    }
  }

  /** Runs the handler; undefined means "leave the run alone" (lease lost or shutting down). */
  async #outcomeOf(
    run: TaskRunRecord,
    doc: Record<string, unknown>,
    controller: AbortController,
    handlers: TaskHandlers,
  ): Promise<TaskOutcome | undefined> {
    const { store } = this.#opts;
    const aborted = new Promise<never>((_, reject) => {
      const fire = () => reject(new Error('aborted'));
      if (controller.signal.aborted) fire();
      else controller.signal.addEventListener('abort', fire, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const transform = await store.getTransform(run, run.transformId);
      if (!transform) return undefined;
      const result = await Promise.race([
        handlers[run.taskType].execute({
          run,
          transform,
          signal: controller.signal,
          progress: (message) => store.tasks.reportProgress(run.id, this.owner, message, Date.now()),
        }),
        aborted,
      ]);
      return { status: 'SUCCEEDED', ...result };
    } catch (e) {
      const reason = controller.signal.aborted ? (controller.signal.reason as AbortReason) : undefined;
      switch (reason) {
        case 'cancel':
          return { status: 'STOPPED' };
        case 'timeout':
          return {
            status: 'TIMEOUT',
            errorString: `Task run exceeded the transform's Timeout of ${Number(doc['Timeout'] ?? DEFAULT_TIMEOUT_MINUTES)} minute(s).`,
          };
        case 'lost':
        case 'shutdown':
          return undefined;
        default:
          return { status: 'FAILED', errorString: errorStringOf(e) };
      }
    }
  }

  /**
   * Stops claiming, aborts the runs in flight and hands them back to the queue (resumed at the next
   * start when their kind allows it).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const c of this.#running.values()) c.abort('shutdown');
    await this.#idle;
    await this.#opts.store.tasks.recoverOrphans({
      now: Date.now(),
      deadOwners: [this.owner],
      canResume: (run) => this.#canResume(run),
      failMessage: (run) => this.#interruptedMessage(run),
    });
  }
}

function errorStringOf(e: unknown): string {
  if (e instanceof Error && e.name === 'TaskFailure') return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return `Internal error while running the task: ${message}`;
}
