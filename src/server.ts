import { join } from 'node:path';
import { loadCredentials } from './api/auth/credentials.js';
import { glueEndpoint } from './api/glue-endpoint.js';
import { glueOperations } from './api/glue-operations.js';
import { startHttpServer } from './api/http-server.js';
import { BufferedBodyBudget } from './api/request-body.js';
import { s3Endpoint } from './api/s3/s3-endpoint.js';
import { CatalogService } from './catalog/catalog-service.js';
import { CrawlerService } from './catalog/crawlers/crawler-service.js';
import type { ServerConfig } from './config.js';
import { ServerMetrics } from './core/metrics.js';
import { acquireDataDirLock } from './storage/data-dir-lock.js';
import { diskReserveOf } from './storage/disk-reserve.js';
import { SqliteMetadataStore } from './storage/sqlite/sqlite-metadata-store.js';
import { TagService } from './tags/tag-service.js';
import { resumePolicy } from './tasks/resume-policy.js';
import { TaskRunService } from './tasks/task-run-service.js';
import { forkTaskProcess, TaskSupervisor } from './tasks/task-supervisor.js';
import type { ObjectStore } from './storage/object-store.js';
import { LocalObjectStore } from './storage/local/local-object-store.js';
import { expireAbandonedUploads } from './storage/local/upload-expiry.js';
import { createObjectStore } from './storage/object-store-factory.js';
import { TransformService } from './transforms/transform-service.js';
import { JobService } from './jobs/job-service.js';
import type { Log } from './core/log.js';

export { DEFAULT_ACCOUNT_ID } from './api/auth/credentials.js';

export interface RunningDoppel {
  url: string;
  close(): Promise<void>;
}

/**
 * Wires the embedded server: SQLite metadata and queue under the data dir, HTTP, and the task
 * supervisor with its task processes (this process answers requests and never runs a task itself).
 */
export async function startDoppel(
  config: ServerConfig,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<RunningDoppel> {
  const credentials = loadCredentials(env);
  const releaseLock = acquireDataDirLock(config.dataDir);
  // Opening the databases creates their log files, which a full disk would refuse: the reserve's
  // space is theirs until they are open, then it is taken back as far as the disk allows.
  const reserve = diskReserveOf(config.dataDir, config.diskReserveBytes);
  reserve.release();
  // Task processes write to the same database and move the log into it: see autoCheckpoint.
  const store = new SqliteMetadataStore(join(config.dataDir, 'metadata.sqlite'), { autoCheckpoint: false, reserve });
  let objects: ObjectStore;
  try {
    objects = await createObjectStore(config.dataDir, env, { defaultBucketOwner: credentials.firstAccountId, reserve });
  } catch (e) {
    await store.close();
    releaseLock();
    throw e;
  }
  const stopExpiringUploads =
    objects instanceof LocalObjectStore && config.multipartExpiryMs > 0
      ? expireAbandonedUploads(objects, config.multipartExpiryMs, log)
      : () => undefined;
  const metrics = new ServerMetrics();
  metrics.countQueueWith(() => store.tasks.activeCounts());
  if (!reserve.refill()) log(`the disk of ${config.dataDir} is full: writes are refused until space is freed`, { level: 'warn' });
  const taskProcess = {
    dataDir: config.dataDir,
    defaultBucketOwner: credentials.firstAccountId,
    diskReserveBytes: config.diskReserveBytes,
    scriptedTasks: config.scriptedTasks,
    seed: config.seed,
    maxLabelFileBytes: config.maxLabelFileBytes,
    partitions: { partitionRows: config.partitionRows, leaseMs: config.leaseMs },
  };
  const supervisor = new TaskSupervisor({
    store,
    spawn: () => forkTaskProcess(taskProcess, env),
    processes: config.workerConcurrency,
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
    timeoutUnitMs: config.timeoutUnitMs,
    maxInterruptions: config.maxInterruptions,
    resumable: resumePolicy(config.scriptedTasks),
    log,
    onAttemptEnded: (run, seconds, outcome) => metrics.taskAttemptSeconds.observe({ task_type: run.taskType, outcome }, seconds),
  });
  try {
    // The data-dir lock guarantees no other process holds leases in this store.
    await supervisor.start(true);
    const catalog = new CatalogService(store);
    const transforms = new TransformService(store, catalog, { maxTransforms: config.maxTransforms });
    const taskRuns = new TaskRunService(
      store,
      transforms,
      { maxActivePerTransform: config.maxConcurrentRunsPerTransform },
      supervisor,
    );
    const jobs = new JobService(store, supervisor, config.timeoutUnitMs);
    const crawlers = new CrawlerService(store, supervisor);
    const operations = glueOperations({ transforms, taskRuns, catalog, tags: new TagService(store), jobs, crawlers });
    const bodyBudget = new BufferedBodyBudget(config.maxBufferedBodyBytes);
    const http = await startHttpServer({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      bodyBudget,
      bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
      handleGlue: glueEndpoint({
        operations,
        credentials,
        noAuth: config.noAuth,
        log,
      }),
      handleS3: s3Endpoint({ store: objects, credentials, noAuth: config.noAuth, log, bodyBudget }),
      metrics,
      readiness: async () => {
        const processes = supervisor.processCounts();
        return {
          metadataStore: await store.tasks.activeCounts().then(() => 'ok', (e: Error) => e.message),
          taskProcesses: processes.ready > 0 || processes.wanted === 0 ? 'ok' : `0 of ${processes.wanted} task processes ready`,
        };
      },
    });
    return {
      url: http.url,
      close: async () => {
        await http.close();
        log(`request bodies held in memory at once peaked at ${bodyBudget.peak} bytes (DOPPEL_MAX_BUFFERED_BODY_BYTES ${bodyBudget.limitBytes})`);
        stopExpiringUploads();
        await supervisor.stop();
        await objects.close();
        await store.close();
        releaseLock();
      },
    };
  } catch (e) {
    stopExpiringUploads();
    await supervisor.stop().catch(() => undefined);
    await objects.close();
    await store.close();
    releaseLock();
    throw e;
  }
}
