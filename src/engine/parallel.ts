/**
 * The engine's parallel work: the neighbour search of blocking and pair scoring, split into ranges
 * that worker threads (thread-main.ts) or, for small inputs, the calling thread run with the same
 * code. Inputs and outputs are shared typed arrays, so a range costs no copy; a thread keeps the
 * last table, key index and feature writer it was given and is only sent them again when they change.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { NeighbourSearch, type KeyIndex, type NeighbourLists } from './blocking.js';
import type { Feature } from './features.js';
import { prepareColumn, type ColumnJob, type PreparedColumn, type PreparedTable } from './profile.js';
import { PairScorer } from './scoring.js';
import type { ScoringModel } from './training.js';

/** A table handed to the threads, with an id that tells them whether they already hold it. */
export interface SharedTable {
  id: number;
  table: PreparedTable;
}

let nextId = 1;
/** A fresh id for a table or key index, so threads can tell a new one from the one they hold. */
export const newShareId = () => nextId++;

export interface NeighbourJob {
  kind: 'neighbours';
  table: SharedTable;
  index: { id: number; index: KeyIndex };
  out: NeighbourLists;
  from: number;
  to: number;
}

export interface ScoreJob {
  kind: 'score';
  table: SharedTable;
  features: Feature[];
  model: ScoringModel;
  a: Uint32Array;
  b: Uint32Array;
  /** Scores are written to out[from - outOffset ..]. */
  out: Float32Array;
  outOffset: number;
  from: number;
  to: number;
}

/** Prepares one column (profile.ts); the result is the PreparedColumn. */
export interface PrepareJob {
  kind: 'prepare';
  column: ColumnJob;
}

export type Job = NeighbourJob | ScoreJob;

/**
 * What a thread (or the calling thread) keeps between jobs: the neighbour search of the last key
 * index and the scorer of the last model (with its value-pair caches). A job returns how many
 * units needed the full work (pairs scored by the full model; rows for the neighbour search).
 */
export class JobRunner {
  #search?: { tableId: number; indexId: number; search: NeighbourSearch };
  #scorer?: { tableId: number; model: ScoringModel; scorer: PairScorer };

  run(job: Job): number {
    if (job.kind === 'neighbours') {
      if (this.#search?.tableId !== job.table.id || this.#search.indexId !== job.index.id) {
        this.#search = { tableId: job.table.id, indexId: job.index.id, search: new NeighbourSearch(job.table.table, job.index.index) };
      }
      this.#search.search.run(job.from, job.to, job.out);
      return job.to - job.from;
    }
    // Messages arrive as fresh copies: a model is "the same" when its content is.
    if (this.#scorer?.tableId !== job.table.id || !sameModel(this.#scorer.model, job.model)) {
      this.#scorer = { tableId: job.table.id, model: job.model, scorer: new PairScorer(job.table.table, job.features, job.model) };
    }
    const scorer = this.#scorer.scorer;
    const before = scorer.fullyScored;
    const { a, b, out, outOffset } = job;
    for (let i = job.from; i < job.to; i++) out[i - outOffset] = scorer.score(a[i]!, b[i]!);
    return scorer.fullyScored - before;
  }
}

function sameModel(x: ScoringModel, y: ScoringModel): boolean {
  return JSON.stringify(x, replacer) === JSON.stringify(y, replacer);
}

const replacer = (_: string, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v);

interface PooledThread {
  worker: Worker;
  tableId?: number;
  indexId?: number;
}

/** Below this many units of work (rows or pairs) a job runs on the calling thread. */
const INLINE_BELOW = 50_000;

/**
 * Runs ranges of jobs on worker threads. `threads` ≤ 1 runs everything on the calling thread.
 * Threads start on first use and stay (unreferenced, so they never keep the process alive).
 */
export class ThreadPool {
  readonly #size: number;
  readonly #idle: PooledThread[] = [];
  #started = 0;
  readonly #waiting: Array<(t: PooledThread) => void> = [];
  readonly #inline = new JobRunner();

  constructor(threads = availableParallelism()) {
    this.#size = Math.max(1, Math.floor(threads));
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Runs `job(from, to)` over [0, total) in chunks, spread over the threads; `onChunk` reports how
   * much is done. Stops early (rejecting) when `signal` aborts.
   */
  async runRanges(
    total: number,
    makeJob: (from: number, to: number) => Job,
    opts: { signal?: AbortSignal; onChunk?: (done: number) => void; inlineBelow?: number } = {},
  ): Promise<number> {
    if (total <= 0) return 0;
    let counted = 0;
    if (this.#size <= 1 || total < (opts.inlineBelow ?? INLINE_BELOW)) {
      const step = Math.max(1, Math.ceil(total / 20));
      for (let from = 0; from < total; from += step) {
        opts.signal?.throwIfAborted();
        counted += this.#inline.run(makeJob(from, Math.min(total, from + step)));
        opts.onChunk?.(Math.min(total, from + step));
      }
      return counted;
    }
    // Chunks small enough to balance the threads and report progress, large enough to amortize a message.
    const chunk = Math.max(1_000, Math.min(1 << 18, Math.ceil(total / (this.#size * 16))));
    let next = 0, done = 0;
    let failure: unknown;
    const worker = async () => {
      while (next < total && failure === undefined) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const from = next;
        const to = Math.min(total, from + chunk);
        next = to;
        const c = await this.#dispatch(makeJob(from, to));
        counted += c;
        done += to - from;
        opts.onChunk?.(done);
      }
    };
    const runners = Array.from({ length: Math.min(this.#size, Math.ceil(total / chunk)) }, () =>
      worker().catch((e) => {
        failure ??= e;
      }),
    );
    await Promise.all(runners);
    if (failure !== undefined) throw failure;
    return counted;
  }

  /** Prepares columns, each on a thread of its own when there are threads. */
  async prepareColumns(jobs: ColumnJob[], onDone?: (done: number) => void): Promise<PreparedColumn[]> {
    let done = 0;
    const finished = () => onDone?.(++done);
    if (this.#size <= 1 || jobs.length <= 1 || (jobs[0]?.rowCount ?? 0) < INLINE_BELOW) {
      return jobs.map((job) => {
        const column = prepareColumn(job);
        finished();
        return column;
      });
    }
    return Promise.all(
      jobs.map(async (job) => {
        const thread = await this.#acquire();
        try {
          const column = await this.#request<PreparedColumn>(thread, { kind: 'prepare', column: job });
          finished();
          return column;
        } finally {
          this.#release(thread);
        }
      }),
    );
  }

  async #dispatch(job: Job): Promise<number> {
    const thread = await this.#acquire();
    try {
      return await this.#send(thread, job);
    } finally {
      this.#release(thread);
    }
  }

  async #send(thread: PooledThread, job: Job): Promise<number> {
    // Send the table and the key index only to a thread that does not hold them yet.
    const message: Record<string, unknown> = { ...job };
    if (thread.tableId === job.table.id) message['table'] = { id: job.table.id };
    if (job.kind === 'neighbours' && thread.indexId === job.index.id) message['index'] = { id: job.index.id };
    const counted = await this.#request<number>(thread, message, () => {
      thread.tableId = undefined;
      thread.indexId = undefined;
    });
    thread.tableId = job.table.id;
    if (job.kind === 'neighbours') thread.indexId = job.index.id;
    return counted;
  }

  /** Sends one message and waits for the thread's answer (`result`), or its error. */
  #request<T>(thread: PooledThread, message: unknown, onThreadError?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w = thread.worker;
      const onMessage = (m: { error?: string; stack?: string; result?: T }) => {
        cleanup();
        if (m.error !== undefined) {
          const e = new Error(m.error);
          if (m.stack) e.stack = m.stack;
          reject(e);
        } else resolve(m.result as T);
      };
      const onError = (e: Error) => {
        cleanup();
        onThreadError?.();
        reject(e);
      };
      const cleanup = () => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.unref();
      };
      w.ref();
      w.on('message', onMessage);
      w.on('error', onError);
      w.postMessage(message);
    });
  }

  async #acquire(): Promise<PooledThread> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#started < this.#size) {
      this.#started++;
      const worker = new Worker(new URL('./thread-main.js', import.meta.url));
      worker.unref();
      const thread: PooledThread = { worker };
      worker.once('exit', () => {
        // A thread that died is replaced on the next acquire.
        this.#started--;
        const i = this.#idle.indexOf(thread);
        if (i >= 0) this.#idle.splice(i, 1);
      });
      return thread;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(thread: PooledThread): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(thread);
    else this.#idle.push(thread);
  }
}
