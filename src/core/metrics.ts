/**
 * The server's Prometheus metrics (prom-client), answered at GET /metrics. One registry per
 * server, so that several servers in one process (the tests) count apart. Labels never name an
 * account, a transform or a key: a scrape shows load, not tenants' data.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds: from a quick Get to a long upload or a large label file. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds: from a small evaluation to a many-million-record find-matches run. */
const TASK_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800];

/** Task runs in the queue by status and type, read from the store when scraped. */
export type QueueCounts = () => Promise<Array<{ status: string; taskType: string; count: number }>>;

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'api' | 'operation' | 'status'>;
  readonly requestSeconds: Histogram<'api' | 'operation'>;
  readonly taskAttemptSeconds: Histogram<'task_type' | 'outcome'>;
  #queueCounts: QueueCounts | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'doppel_' });
    this.requests = new Counter({
      name: 'doppel_http_requests_total',
      help: 'Requests answered, by API (glue, s3, ui, health), operation (Glue operation or HTTP method) and status code.',
      labelNames: ['api', 'operation', 'status'],
      registers: [this.registry],
    });
    this.requestSeconds = new Histogram({
      name: 'doppel_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer starting, by API and operation.',
      labelNames: ['api', 'operation'],
      buckets: REQUEST_BUCKETS,
      registers: [this.registry],
    });
    this.taskAttemptSeconds = new Histogram({
      name: 'doppel_task_attempt_duration_seconds',
      help: 'Time a task process spent on one attempt of a task run, by task type and how the attempt ended (done, stopped, crashed).',
      labelNames: ['task_type', 'outcome'],
      buckets: TASK_BUCKETS,
      registers: [this.registry],
    });
    const self = this;
    new Gauge({
      name: 'doppel_task_runs_active',
      help: 'Task runs waiting (STARTING), running (RUNNING) or being stopped (STOPPING), by task type.',
      labelNames: ['status', 'task_type'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of (await self.#queueCounts?.()) ?? []) this.set({ status: c.status, task_type: c.taskType }, c.count);
      },
    });
  }

  /** Where the queue gauge reads its counts (the metadata store's task queue). */
  countQueueWith(counts: QueueCounts): void {
    this.#queueCounts = counts;
  }
}
