import { createMatcher } from '../engine/index.js';
import type { MetadataStore } from '../storage/metadata-store.js';
import { crawlTask } from './kinds/crawl-task.js';
import { evaluationTask } from './kinds/evaluation-task.js';
import { explainMatchesTask } from './kinds/explain-matches-task.js';
import { exportLabelsTask } from './kinds/export-labels-task.js';
import type { PartitionConfig } from './kinds/find-matches-parts.js';
import { findMatchesTask } from './kinds/find-matches-task.js';
import { importLabelsTask } from './kinds/import-labels-task.js';
import { labelingSetTask } from './kinds/labeling-set-task.js';
import { scriptedTask } from './kinds/scripted-task.js';
import type { TaskHandlers } from './task-handler.js';

/** What the task kinds are told from the server's configuration. */
export interface TaskHandlerConfig {
  /** DOPPEL_SCRIPTED_TASKS: every run is a scripted test run (see kinds/scripted-task.ts). */
  scriptedTasks: boolean;
  /** DOPPEL_SEED: the matcher's random choices. */
  seed: number;
  /** DOPPEL_MAX_LABEL_FILE_MB in bytes. */
  maxLabelFileBytes: number;
  /** How find-matches runs are split into parts (DOPPEL_PARTITION_ROWS, DOPPEL_LEASE_MS). */
  partitions: PartitionConfig;
}

/** The handler of each task kind, over the metadata store a task process opened (objects: TaskContext). */
export function taskHandlers(config: TaskHandlerConfig, store: MetadataStore): TaskHandlers {
  if (config.scriptedTasks) {
    return {
      LABELING_SET_GENERATION: scriptedTask,
      IMPORT_LABELS: scriptedTask,
      EXPORT_LABELS: scriptedTask,
      EVALUATION: scriptedTask,
      FIND_MATCHES: scriptedTask,
      EXPLAIN_MATCHES: scriptedTask,
      CRAWL: scriptedTask,
    };
  }
  const matcher = createMatcher();
  const seed = config.seed;
  return {
    IMPORT_LABELS: importLabelsTask({ store, maxLabelBytes: config.maxLabelFileBytes }),
    EXPORT_LABELS: exportLabelsTask({ store }),
    LABELING_SET_GENERATION: labelingSetTask({ store, matcher, seed }),
    EVALUATION: evaluationTask({ store, matcher, seed }),
    FIND_MATCHES: findMatchesTask({ store, matcher, seed, partitions: config.partitions }),
    EXPLAIN_MATCHES: explainMatchesTask({ store, matcher, seed }),
    CRAWL: crawlTask({ store }),
  };
}
