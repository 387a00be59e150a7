import { join } from 'node:path';
import { loadCredentials } from './api/auth/credentials.js';
import { glueEndpoint } from './api/glue-endpoint.js';
import { glueOperations } from './api/glue-operations.js';
import { startHttpServer } from './api/http-server.js';
import { s3Endpoint } from './api/s3/s3-endpoint.js';
import { CatalogService } from './catalog/catalog-service.js';
import type { ServerConfig } from './config.js';
import { acquireDataDirLock } from './storage/data-dir-lock.js';
import { SqliteMetadataStore } from './storage/sqlite/sqlite-metadata-store.js';
import { TagService } from './tags/tag-service.js';
import type { TaskType } from './storage/records.js';
import type { TaskHandler, TaskHandlers } from './tasks/task-handler.js';
import { TaskRunService } from './tasks/task-run-service.js';
import { TaskWorkerPool } from './tasks/task-worker-pool.js';
import { scriptedTask } from './tasks/kinds/scripted-task.js';
import { unavailableTask } from './tasks/kinds/unavailable-task.js';
import { exportLabelsTask } from './tasks/kinds/export-labels-task.js';
import { importLabelsTask } from './tasks/kinds/import-labels-task.js';
import { evaluationTask } from './tasks/kinds/evaluation-task.js';
import { findMatchesTask } from './tasks/kinds/find-matches-task.js';
import { labelingSetTask } from './tasks/kinds/labeling-set-task.js';
import { createMatcher } from './engine/index.js';
import type { MetadataStore } from './storage/metadata-store.js';
import type { ObjectStore } from './storage/object-store.js';
import { createObjectStore } from './storage/object-store-factory.js';
import { TransformService } from './transforms/transform-service.js';
import { JobService } from './jobs/job-service.js';

export { DEFAULT_ACCOUNT_ID } from './api/auth/credentials.js';

export interface RunningDoppel {
  url: string;
  close(): Promise<void>;
}

const TASK_TYPES: TaskType[] = [
  'LABELING_SET_GENERATION',
  'IMPORT_LABELS',
  'EXPORT_LABELS',
  'EVALUATION',
  'FIND_MATCHES',
];

function taskHandlers(config: ServerConfig, store: MetadataStore, objects: ObjectStore): TaskHandlers {
  const matcher = createMatcher();
  const seed = config.seed;
  const real: Partial<Record<TaskType, TaskHandler>> = {
    IMPORT_LABELS: importLabelsTask({ objects, store, maxLabelBytes: config.maxLabelFileBytes }),
    EXPORT_LABELS: exportLabelsTask({ objects, store }),
    LABELING_SET_GENERATION: labelingSetTask({ objects, store, matcher, seed }),
    EVALUATION: evaluationTask({ objects, store, matcher, seed }),
    FIND_MATCHES: findMatchesTask({ objects, store, matcher, seed }),
  };
  const pick = (t: TaskType): TaskHandler =>
    config.scriptedTasks ? scriptedTask : (real[t] ?? unavailableTask(t));
  return Object.fromEntries(TASK_TYPES.map((t) => [t, pick(t)])) as Record<TaskType, TaskHandler>;
}

/** Wires the embedded server: SQLite metadata and queue under the data dir, workers, HTTP. */
export async function startDoppel(
  config: ServerConfig,
  env: NodeJS.ProcessEnv,
  log: (message: string) => void,
): Promise<RunningDoppel> {
  const credentials = loadCredentials(env);
  const releaseLock = acquireDataDirLock(config.dataDir);
  const store = new SqliteMetadataStore(join(config.dataDir, 'metadata.sqlite'));
  let objects: ObjectStore;
  try {
    objects = await createObjectStore(config.dataDir, env);
  } catch (e) {
    await store.close();
    releaseLock();
    throw e;
  }
  const workers = new TaskWorkerPool({
    store,
    handlers: taskHandlers(config, store, objects),
    concurrency: config.workerConcurrency,
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
    timeoutUnitMs: config.timeoutUnitMs,
    maxInterruptions: config.maxInterruptions,
    log,
  });
  try {
    // The data-dir lock guarantees no other process holds leases in this store.
    await workers.start(true);
    const catalog = new CatalogService(store);
    const transforms = new TransformService(store, catalog, { maxTransforms: config.maxTransforms });
    const taskRuns = new TaskRunService(
      store,
      transforms,
      { maxActivePerTransform: config.maxConcurrentRunsPerTransform },
      () => workers.wake(),
    );
    const jobs = new JobService(store, () => workers.wake(), config.timeoutUnitMs);
    const operations = glueOperations({ transforms, taskRuns, catalog, tags: new TagService(store), jobs });
    const http = await startHttpServer({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      handleGlue: glueEndpoint({
        operations,
        credentials,
        noAuth: config.noAuth,
        log,
      }),
      handleS3: s3Endpoint({ store: objects, credentials, noAuth: config.noAuth, log }),
    });
    return {
      url: http.url,
      close: async () => {
        await http.close();
        await workers.stop();
        await objects.close();
        await store.close();
        releaseLock();
      },
    };
  } catch (e) {
    await workers.stop().catch(() => undefined);
    await objects.close();
    await store.close();
    releaseLock();
    throw e;
  }
}
