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
import type { MetadataStore } from './storage/metadata-store.js';
import { isSingleNode, openMetadataStore } from './storage/metadata-store-factory.js';
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

/**
 * PostgreSQL connections of each task process: it executes one run at a time, whose statements
 * run one after another.
 */
const TASK_PROCESS_POOL_SIZE = 2;

export interface RunningDoppel {
  url: string;
  close(): Promise<void>;
}

/**
 * Wires the server: metadata and queue (SQLite under the data dir, or PostgreSQL), HTTP, and the task
 * supervisor with its task processes (this process answers requests and never runs a task itself).
 */
export async function startDoppel(
  config: ServerConfig,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<RunningDoppel> {
  const credentials = loadCredentials(env);
  const releaseLock = acquireDataDirLock(config.dataDir);
  const database = { dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize };
  // Opening the databases creates their log files, which a full disk would refuse: the reserve's
  // space is theirs until they are open, then it is taken back as far as the disk allows.
  const reserve = diskReserveOf(config.dataDir, config.diskReserveBytes);
  reserve.release();
  let store: MetadataStore;
  try {
    // Task processes write to the same database and move the log into it: see autoCheckpoint.
    store = await openMetadataStore(database, { autoCheckpoint: false, reserve }, (e) =>
      log(`a PostgreSQL connection broke while idle (the pool opens a new one): ${e.message}`, { level: 'warn' }),
    );
  } catch (e) {
    releaseLock();
    throw e;
  }
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
    database: { ...database, poolSize: TASK_PROCESS_POOL_SIZE },
    defaultBucketOwner: credentials.firstAccountId,
    diskReserveBytes: config.diskReserveBytes,
    scriptedTasks: config.scriptedTasks,
    seed: config.seed,
    maxLabelFileBytes: config.maxLabelFileBytes,
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
    // With the embedded store, the data-dir lock guarantees no other process holds leases in it; a
    // shared store's leases may belong to live nodes, whose runs are recovered only once they expire.
    await supervisor.start(isSingleNode(store));
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
