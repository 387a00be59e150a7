import type { CatalogService } from '../catalog/catalog-service.js';
import type { CrawlerService } from '../catalog/crawlers/crawler-service.js';
import type { RequestContext } from '../core/request-context.js';
import type { Json } from '../core/wire.js';
import type { JobService } from '../jobs/job-service.js';
import type { TagService } from '../tags/tag-service.js';
import type { TaskRunService } from '../tasks/task-run-service.js';
import type { TransformService } from '../transforms/transform-service.js';

export type Operation = (ctx: RequestContext, input: Json) => Promise<Json>;

export interface Services {
  transforms: TransformService;
  taskRuns: TaskRunService;
  tags: TagService;
  catalog: CatalogService;
  jobs: JobService;
  crawlers: CrawlerService;
}

/** Operations doppel adds to Glue's: Glue's model does not know them, so they check their own input. */
export const EXTENSION_OPERATIONS: ReadonlySet<string> = new Set(['ExplainMatches']);

/** X-Amz-Target operation name (after "AWSGlue.") → the service method that implements it. */
export function glueOperations(s: Services): ReadonlyMap<string, Operation> {
  const ops: Record<string, Operation> = {
    CreateMLTransform: (c, i) => s.transforms.create(c, i),
    GetMLTransform: (c, i) => s.transforms.get(c, i),
    GetMLTransforms: (c, i) => s.transforms.getMany(c, i),
    ListMLTransforms: (c, i) => s.transforms.listIds(c, i),
    UpdateMLTransform: (c, i) => s.transforms.update(c, i),
    DeleteMLTransform: (c, i) => s.transforms.delete(c, i),

    StartMLLabelingSetGenerationTaskRun: (c, i) => s.taskRuns.startLabelingSetGeneration(c, i),
    StartImportLabelsTaskRun: (c, i) => s.taskRuns.startImportLabels(c, i),
    StartExportLabelsTaskRun: (c, i) => s.taskRuns.startExportLabels(c, i),
    StartMLEvaluationTaskRun: (c, i) => s.taskRuns.startEvaluation(c, i),
    GetMLTaskRun: (c, i) => s.taskRuns.get(c, i),
    GetMLTaskRuns: (c, i) => s.taskRuns.getMany(c, i),
    CancelMLTaskRun: (c, i) => s.taskRuns.cancel(c, i),
    // doppel's own (README "doppel extensions"): not in Glue's model.
    ExplainMatches: (c, i) => s.taskRuns.explainMatches(c, i),

    TagResource: (c, i) => s.tags.tagResource(c, i),
    UntagResource: (c, i) => s.tags.untagResource(c, i),
    GetTags: (c, i) => s.tags.getTags(c, i),

    CreateDatabase: (c, i) => s.catalog.createDatabase(c, i),
    GetDatabase: (c, i) => s.catalog.getDatabase(c, i),
    GetDatabases: (c, i) => s.catalog.getDatabases(c, i),
    UpdateDatabase: (c, i) => s.catalog.updateDatabase(c, i),
    DeleteDatabase: (c, i) => s.catalog.deleteDatabase(c, i),
    CreateTable: (c, i) => s.catalog.createTable(c, i),
    GetTable: (c, i) => s.catalog.getTable(c, i),
    GetTables: (c, i) => s.catalog.getTables(c, i),
    UpdateTable: (c, i) => s.catalog.updateTable(c, i),
    DeleteTable: (c, i) => s.catalog.deleteTable(c, i),
    CreatePartition: (c, i) => s.catalog.createPartition(c, i),
    BatchCreatePartition: (c, i) => s.catalog.batchCreatePartition(c, i),
    GetPartition: (c, i) => s.catalog.getPartition(c, i),
    GetPartitions: (c, i) => s.catalog.getPartitions(c, i),
    BatchGetPartition: (c, i) => s.catalog.batchGetPartition(c, i),
    UpdatePartition: (c, i) => s.catalog.updatePartition(c, i),
    DeletePartition: (c, i) => s.catalog.deletePartition(c, i),
    BatchDeletePartition: (c, i) => s.catalog.batchDeletePartition(c, i),
    BatchUpdatePartition: (c, i) => s.catalog.batchUpdatePartition(c, i),
    BatchDeleteTable: (c, i) => s.catalog.batchDeleteTable(c, i),
    GetTableVersions: (c, i) => s.catalog.getTableVersions(c, i),
    GetTableVersion: (c, i) => s.catalog.getTableVersion(c, i),
    DeleteTableVersion: (c, i) => s.catalog.deleteTableVersion(c, i),
    BatchDeleteTableVersion: (c, i) => s.catalog.batchDeleteTableVersion(c, i),
    SearchTables: (c, i) => s.catalog.searchTables(c, i),

    CreateJob: (c, i) => s.jobs.create(c, i),
    GetJob: (c, i) => s.jobs.get(c, i),
    GetJobs: (c, i) => s.jobs.getMany(c, i),
    ListJobs: (c, i) => s.jobs.listNames(c, i),
    BatchGetJobs: (c, i) => s.jobs.batchGet(c, i),
    UpdateJob: (c, i) => s.jobs.update(c, i),
    DeleteJob: (c, i) => s.jobs.delete(c, i),
    StartJobRun: (c, i) => s.jobs.startRun(c, i),
    GetJobRun: (c, i) => s.jobs.getRun(c, i),
    GetJobRuns: (c, i) => s.jobs.getRuns(c, i),
    BatchStopJobRun: (c, i) => s.jobs.batchStop(c, i),

    CreateCrawler: (c, i) => s.crawlers.create(c, i),
    GetCrawler: (c, i) => s.crawlers.get(c, i),
    GetCrawlers: (c, i) => s.crawlers.getMany(c, i),
    ListCrawlers: (c, i) => s.crawlers.listNames(c, i),
    BatchGetCrawlers: (c, i) => s.crawlers.batchGet(c, i),
    UpdateCrawler: (c, i) => s.crawlers.update(c, i),
    DeleteCrawler: (c, i) => s.crawlers.delete(c, i),
    StartCrawler: (c, i) => s.crawlers.start(c, i),
    StopCrawler: (c, i) => s.crawlers.stop(c, i),
    GetCrawlerMetrics: (c, i) => s.crawlers.metrics(c, i),
    ListCrawls: (c, i) => s.crawlers.listCrawls(c, i),
  };
  return new Map(Object.entries(ops));
}
