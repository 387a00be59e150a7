import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { redactedUrl } from '../../core/redacted-url.js';
import type { TaskRunRecord } from '../records.js';

/** What a queue job carries: enough to read its run, and which queueing of the run it stands for. */
export interface QueuedRun {
  id: string;
  accountId: string;
  region: string;
  transformId: string;
  /** jobKeyOf(run) when the job was added. */
  key: string;
}

/**
 * A run waiting in the queue is one job per queueing: a run that goes back to STARTING for another
 * attempt, or after an interruption, gets a new job, while announcing the same queueing twice
 * (every node announces the runs it sees waiting) adds nothing.
 */
export const jobKeyOf = (run: Pick<TaskRunRecord, 'id' | 'attempt' | 'interruptions'>): string =>
  `${run.id}.${run.attempt}.${run.interruptions}`;

/** What a consumer does with a job: done with it, or look at it again in `againInMs`. */
export type TakeResult = { done: true } | { done: false; againInMs: number };

export interface RunQueueOptions {
  /** DOPPEL_REDIS_URL: redis://… */
  url: string;
  /** DOPPEL_REDIS_PREFIX: the deployment's keys, so several deployments may share one Redis. */
  prefix: string;
}

const QUEUE_NAME = 'task-runs';
/** How long a node waits at start for Redis to answer before it gives up. */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long closing waits for Redis (settling the jobs being taken, closing the connections); a node
 * whose Redis is down stops anyway, and the jobs it held come back to other workers as stalled.
 */
const CLOSE_WAIT_MS = 3_000;

/** ioredis connection states after a connection was lost (before the first connection it is 'wait' or 'connecting'). */
const LOST = new Set(['reconnecting', 'close', 'end']);

/** Waits for `work` at most `ms`; what it does after that is left to it. */
async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * The task runs waiting to be executed, as a BullMQ queue in Redis: nodes sharing one PostgreSQL
 * database announce the runs they enqueue here, and every worker takes jobs from it. BullMQ hands a
 * job to one worker at a time and keeps it locked to that worker while its lock is renewed (the
 * worker's heartbeat); a job whose worker stopped renewing goes back to waiting for another worker.
 * The run's row in PostgreSQL stays the fence: a worker executes a run only after claiming it there
 * (STARTING → RUNNING under its lease), so a job handed out twice never runs twice.
 */
export class RunQueue {
  readonly #options: RunQueueOptions;
  readonly #connection: Redis;
  readonly #queue: Queue;
  readonly #workers = new Set<Worker>();

  /** Connects at the first use (see connect()). */
  constructor(options: RunQueueOptions) {
    this.#options = options;
    this.#connection = new Redis(options.url, { maxRetriesPerRequest: null, lazyConnect: true });
    this.#connection.on('error', () => undefined); // ioredis reconnects by itself; calls made meanwhile wait
    this.#queue = new Queue(QUEUE_NAME, { connection: this.#connection, prefix: options.prefix });
    this.#queue.on('error', () => undefined); // the same connection errors, reported where they are used
  }

  /** Waits until Redis answers; a node that cannot reach it (an error, or no answer in 5 s) does not start. */
  async connect(): Promise<void> {
    try {
      await this.#answers(CONNECT_TIMEOUT_MS);
    } catch (e) {
      this.#connection.disconnect();
      throw new Error(`cannot reach Redis at DOPPEL_REDIS_URL (${redactedUrl(this.#options.url)}): ${(e as Error).message}`);
    }
  }

  /** Resolves when Redis answers a ping; rejects at the connection's next error or after `timeoutMs`. */
  async #answers(timeoutMs: number): Promise<void> {
    let fail: (e: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    const timer = setTimeout(() => fail(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    this.#connection.once('error', fail);
    try {
      await Promise.race([this.#connection.ping(), failed]);
    } finally {
      clearTimeout(timer);
      this.#connection.off('error', fail);
    }
  }

  /**
   * Adds a job for each run's current queueing that has none yet. While the connection to Redis is
   * lost it adds nothing (rather than queueing the call): the sweeps announce every waiting run
   * again once Redis is back.
   */
  async announce(runs: readonly TaskRunRecord[]): Promise<void> {
    if (runs.length === 0 || LOST.has(this.#connection.status)) return;
    await this.#queue.addBulk(
      runs.map((run) => {
        const key = jobKeyOf(run);
        const data: QueuedRun = { id: run.id, accountId: run.accountId, region: run.region, transformId: run.transformId, key };
        return { name: run.taskType, data, opts: { jobId: key, removeOnComplete: true, removeOnFail: true } };
      }),
    );
  }

  /**
   * Takes jobs, at most `concurrency` at a time, and gives each to `take` until it says it is done
   * with it; a job it wants to look at again waits in the queue meanwhile, free for any worker.
   * `lockMs` is how long a job stays locked to a worker that stopped renewing it (it renews twice
   * as often). Its close() stops taking jobs once the ones being taken are settled.
   */
  consume(opts: { concurrency: number; lockMs: number; take: (run: QueuedRun) => Promise<TakeResult> }): { close(): Promise<void> } {
    const worker = new Worker<QueuedRun>(
      QUEUE_NAME,
      async (job: Job<QueuedRun>, token?: string) => {
        const result = await opts.take(job.data);
        if (result.done) return;
        await job.moveToDelayed(Date.now() + result.againInMs, token);
        throw new DelayedError();
      },
      {
        connection: this.#connection,
        prefix: this.#options.prefix,
        concurrency: opts.concurrency,
        lockDuration: opts.lockMs,
        stalledInterval: opts.lockMs,
        // Whether a run whose worker vanished starts again is the run's own rule (MaxRetries), not the queue's.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
      },
    );
    worker.on('error', () => undefined); // connection errors: the worker reconnects and goes on
    this.#workers.add(worker);
    return {
      close: async () => {
        this.#workers.delete(worker);
        await atMost(worker.close(), CLOSE_WAIT_MS);
      },
    };
  }

  /** 'ok' when Redis answers within `timeoutMs`, else why not: for /ready, which must answer whatever Redis does. */
  async check(timeoutMs: number): Promise<string> {
    return this.#answers(timeoutMs).then(
      () => 'ok',
      (e: Error) => `Redis (DOPPEL_REDIS_URL): ${e.message}`,
    );
  }

  /** Stops every consumer still taking jobs (waiting a while for the ones being taken) and disconnects. */
  async close(): Promise<void> {
    await atMost(Promise.all([...this.#workers].map((worker) => worker.close())), CLOSE_WAIT_MS);
    this.#workers.clear();
    await atMost(this.#queue.close(), CLOSE_WAIT_MS);
    this.#connection.disconnect();
  }
}
