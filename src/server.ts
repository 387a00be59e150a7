import { loadCredentials, type CredentialRegistry } from './api/auth/credentials.js';
import { glueEndpoint } from './api/glue-endpoint.js';
import { glueOperations } from './api/glue-operations.js';
import { startHttpServer } from './api/http-server.js';
import { BufferedBodyBudget } from './api/request-body.js';
import { s3Endpoint } from './api/s3/s3-endpoint.js';
import { CatalogService } from './catalog/catalog-service.js';
import { CrawlerService } from './catalog/crawlers/crawler-service.js';
import type { ServerConfig } from './config.js';
import { ServerMetrics } from './core/metrics.js';
import { diskReserveOf } from './storage/disk-reserve.js';
import type { MetadataStore } from './storage/metadata-store.js';
import { openMetadataStore } from './storage/metadata-store-factory.js';
import { RunQueue } from './storage/redis/run-queue.js';
import { holdNodeLock, newNodeId, nodeProvablyDead, otherLiveNodes, whileStarting } from './storage/node-locks.js';
import { TagService } from './tags/tag-service.js';
import { AccountObjectStore } from './storage/account-object-store.js';
import { endExecution } from './tasks/kinds/find-matches-parts.js';
import { resumePolicy } from './tasks/resume-policy.js';
import { TaskRunService, type TaskRunEvents } from './tasks/task-run-service.js';
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

/** How long /ready waits for Redis before it says it is not ready. */
const READY_CHECK_MS = 1_000;

export interface RunningDoppel {
  url: string;
  /** This node's id: the lease owner of the runs its supervisor claims (see storage/node-locks.ts). */
  nodeId: string;
  close(): Promise<void>;
}

/** Where the node's metadata lives (see storage/metadata-store-factory.ts). */
const databaseOf = (config: ServerConfig) => ({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize });

/** What every node of a data dir has: its id and lock, the metadata store and the object store. */
interface OpenNode {
  nodeId: string;
  credentials: CredentialRegistry;
  store: MetadataStore;
  objects: ObjectStore;
  /** Where runs are announced and taken when nodes share PostgreSQL (config.runQueue). */
  runQueue: RunQueue | undefined;
  close(): Promise<void>;
}

/**
 * Joins the data dir's nodes and opens the metadata store (SQLite in the data dir, or PostgreSQL)
 * and the object store. Only a node alone on the data dir removes what interrupted writes left in
 * the embedded object store: to any other, a live node's write in progress would look the same.
 */
function openNode(config: ServerConfig, env: NodeJS.ProcessEnv, log: Log): Promise<OpenNode> {
  const credentials = loadCredentials(env);
  const nodeId = newNodeId();
  return whileStarting(config.dataDir, async () => {
    const releaseLock = holdNodeLock(config.dataDir, nodeId, { create: true });
    // Opening the databases creates their log files, which a full disk would refuse: the reserve's
    // space is theirs until they are open, then it is taken back as far as the disk allows.
    const reserve = diskReserveOf(config.dataDir, config.diskReserveBytes);
    reserve.release();
    let store: MetadataStore;
    let runQueue: RunQueue | undefined;
    try {
      runQueue = config.runQueue && new RunQueue(config.runQueue);
      // Task processes write to the same database and move the log into it: see autoCheckpoint.
      store = await openMetadataStore(
        databaseOf(config),
        { autoCheckpoint: false, reserve },
        (e) => log(`a PostgreSQL connection broke while idle (the pool opens a new one): ${e.message}`, { level: 'warn' }),
        runQueue,
      );
    } catch (e) {
      releaseLock();
      throw e;
    }
    try {
      await runQueue?.connect();
    } catch (e) {
      await store.close();
      releaseLock();
      throw e;
    }
    let objects: ObjectStore;
    try {
      const others = otherLiveNodes(config.dataDir, nodeId, new Set(await store.tasks.leaseOwners()));
      if (others.length > 0) log(`sharing data dir ${config.dataDir} with ${others.length} other doppel node(s): ${others.join(', ')}`);
      objects = await createObjectStore(config.dataDir, env, {
        removeLeftovers: others.length === 0,
        defaultBucketOwner: credentials.firstAccountId,
        reserve,
      });
    } catch (e) {
      await store.close();
      await runQueue?.close();
      releaseLock();
      throw e;
    }
    if (!reserve.refill()) log(`the disk of ${config.dataDir} is full: writes are refused until space is freed`, { level: 'warn' });
    return {
      nodeId,
      credentials,
      store,
      objects,
      runQueue,
      close: async () => {
        await objects.close();
        await store.close();
        await runQueue?.close();
        releaseLock();
      },
    };
  });
}

/** The node's supervisor and its task processes: this node claims and executes task runs. */
function supervisorOf(node: OpenNode, config: ServerConfig, env: NodeJS.ProcessEnv, log: Log, metrics: ServerMetrics): TaskSupervisor {
  const taskProcess = {
    dataDir: config.dataDir,
    nodeId: node.nodeId,
    database: { ...databaseOf(config), poolSize: TASK_PROCESS_POOL_SIZE },
    defaultBucketOwner: node.credentials.firstAccountId,
    diskReserveBytes: config.diskReserveBytes,
    scriptedTasks: config.scriptedTasks,
    seed: config.seed,
    maxLabelFileBytes: config.maxLabelFileBytes,
    partitions: { partitionRows: config.partitionRows, leaseMs: config.leaseMs },
    ...(config.runQueue ? { runQueue: config.runQueue } : {}),
  };
  return new TaskSupervisor({
    store: node.store,
    owner: node.nodeId,
    ownerDead: (owner) => nodeProvablyDead(config.dataDir, owner),
    ...(node.runQueue ? { runQueue: node.runQueue } : {}),
    spawn: () => forkTaskProcess(taskProcess, env),
    processes: config.workerConcurrency,
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
    timeoutUnitMs: config.timeoutUnitMs,
    resumable: resumePolicy(config.scriptedTasks),
    log,
    onAttemptEnded: (run, seconds, outcome) => metrics.taskAttemptSeconds.observe({ task_type: run.taskType, outcome }, seconds),
    afterAttempt: (run) => endExecution(node.store, new AccountObjectStore(node.objects, run.accountId), run),
  });
}

/**
 * An API-only node has nobody in its process to tell about new runs and cancels: workers learn of
 * new runs from the run queue (PostgreSQL) or within 50 ms (the embedded store), and see cancels
 * within a quarter of a second.
 */
const QUEUE_ONLY: TaskRunEvents = { enqueued: () => undefined, cancelRequested: () => undefined };

/** /ready's checks of what every node depends on: its metadata store and, on PostgreSQL, its run queue. */
async function storeChecks(node: OpenNode): Promise<Record<string, string>> {
  return {
    metadataStore: await node.store.tasks.activeCounts().then(() => 'ok', (e: Error) => e.message),
    ...(node.runQueue ? { runQueue: await node.runQueue.check(READY_CHECK_MS) } : {}),
  };
}

/** /ready's check of the task processes a node keeps. */
function taskProcessesCheck(supervisor: TaskSupervisor): string {
  const processes = supervisor.processCounts();
  return processes.ready > 0 || processes.wanted === 0 ? 'ok' : `0 of ${processes.wanted} task processes ready`;
}

/**
 * `doppel serve`: the HTTP API over the data dir's stores and, unless `config.runsTasks` is false
 * (`--no-worker`), a supervisor with its task processes (this process answers requests and never
 * runs a task itself).
 */
export async function startDoppel(
  config: ServerConfig,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<RunningDoppel> {
  const node = await openNode(config, env, log);
  const { store, objects, credentials } = node;
  const stopExpiringUploads =
    objects instanceof LocalObjectStore && config.multipartExpiryMs > 0
      ? expireAbandonedUploads(objects, config.multipartExpiryMs, log)
      : () => undefined;
  const metrics = new ServerMetrics();
  metrics.countQueueWith(() => store.tasks.activeCounts());
  const supervisor = config.runsTasks ? supervisorOf(node, config, env, log, metrics) : undefined;
  try {
    await supervisor?.start();
    const events = supervisor ?? QUEUE_ONLY;
    const catalog = new CatalogService(store);
    const transforms = new TransformService(store, catalog, { maxTransforms: config.maxTransforms });
    const taskRuns = new TaskRunService(
      store,
      transforms,
      { maxActivePerTransform: config.maxConcurrentRunsPerTransform },
      events,
    );
    const jobs = new JobService(store, events, config.timeoutUnitMs);
    const crawlers = new CrawlerService(store, events);
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
      readiness: async () => ({
        ...(await storeChecks(node)),
        ...(supervisor ? { taskProcesses: taskProcessesCheck(supervisor) } : {}),
      }),
    });
    return {
      url: http.url,
      nodeId: node.nodeId,
      close: async () => {
        await http.close();
        log(`request bodies held in memory at once peaked at ${bodyBudget.peak} bytes (DOPPEL_MAX_BUFFERED_BODY_BYTES ${bodyBudget.limitBytes})`);
        stopExpiringUploads();
        await supervisor?.stop();
        await node.close();
      },
    };
  } catch (e) {
    stopExpiringUploads();
    await supervisor?.stop().catch(() => undefined);
    await node.close();
    throw e;
  }
}

export interface RunningWorker {
  /** Where /health, /ready and /metrics are answered, when the worker was given a port. */
  url: string | undefined;
  nodeId: string;
  close(): Promise<void>;
}

/**
 * `doppel worker`: a supervisor with its task processes over the data dir's stores, and no API.
 * Given `healthPort`, it answers /health, /ready and /metrics there (any other request is refused).
 */
export async function startWorker(
  config: ServerConfig,
  env: NodeJS.ProcessEnv,
  log: Log,
  healthPort: number | undefined,
): Promise<RunningWorker> {
  const node = await openNode(config, env, log);
  const metrics = new ServerMetrics();
  metrics.countQueueWith(() => node.store.tasks.activeCounts());
  const supervisor = supervisorOf(node, config, env, log, metrics);
  let http: { url: string; close(): Promise<void> } | undefined;
  try {
    await supervisor.start();
    if (healthPort !== undefined) {
      http = await startHttpServer({
        host: config.host,
        port: healthPort,
        maxBodyBytes: config.maxBodyBytes,
        bodyBudget: new BufferedBodyBudget(config.maxBufferedBodyBytes),
        bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
        handleGlue: async () => ({
          status: 400,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: JSON.stringify({
            __type: 'UnknownOperationException',
            Message: 'This is a doppel worker: it executes task runs and answers /health, /ready and /metrics only; send API requests to doppel serve.',
          }),
        }),
        metrics,
        readiness: async () => ({ ...(await storeChecks(node)), taskProcesses: taskProcessesCheck(supervisor) }),
      });
    }
  } catch (e) {
    await supervisor.stop().catch(() => undefined);
    await node.close();
    throw e;
  }
  return {
    url: http?.url,
    nodeId: node.nodeId,
    close: async () => {
      await http?.close();
      await supervisor.stop();
      await node.close();
    },
  };
}
