import type { MissingKeys } from '../../catalog/table-data/missing-keys.js';
import { TableDataError } from '../../catalog/table-data/table-data-error.js';
import { findMissingCatalogKeys, partitionsToRead } from '../../catalog/table-source.js';
import { dataObjectsAt } from '../../storage/data-objects.js';
import { LABEL_BATCH_ROWS } from '../../storage/label-store.js';
import type { MetadataStore } from '../../storage/metadata-store.js';
import { ObjectStoreError, type ObjectStore } from '../../storage/object-store.js';
import { formatS3Uri } from '../../storage/s3-uri.js';
import { LabeledRecords, LabelFileError, readLabelFile } from '../../transforms/labels/label-file.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { s3LocationOf } from './task-paths.js';
import { transformColumns } from './transform-columns.js';

export interface ImportLabelsDeps {
  store: MetadataStore;
  /** Label files larger than this (all parts together) are refused. */
  maxLabelBytes: number;
}

/** Shares of the run, for progress: reading the files, then checking the keys, then carrying old labels over. */
const READ_UNTIL = 0.6;
const CHECK_UNTIL = 0.9;
/** Missing labeled records named in the error; the rest are counted. */
const MISSING_KEYS_NAMED = 5;

/**
 * IMPORT_LABELS: streams the label file (one object, or every CSV part under a prefix) into a new
 * label generation, batch by batch, checks all of it, and hands the generation to the queue, which
 * makes it the transform's labels together with SUCCEEDED. Until then no reader sees any of it, so
 * a bad file changes nothing and a run interrupted half-way can simply run again. Memory holds one
 * batch of rows and one entry per labeled row (to find repeated records and check the keys).
 */
export function importLabelsTask(deps: ImportLabelsDeps): TaskHandler {
  return {
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const props = ctx.run.properties['ImportLabelsTaskRunProperties'] as { InputS3Path: string; Replace?: boolean };
      const { run } = ctx;
      const { generation, basedOn } = await deps.store.labels.beginGeneration(run, run.transformId, run.id);
      const read = await readLabels(deps, ctx, props.InputS3Path, generation);
      ctx.progress(`checking the records of ${read.rows} labeled rows against the transform's table`, READ_UNTIL);
      await checkRecordsExist(deps, ctx, read.keys);
      const ownReady = [...read.setSizes.values()].some((n) => n >= 2);
      let carried = { rows: 0, someSetHasTwo: false };
      if (!props.Replace && basedOn !== 0) {
        // Appending to stored labels: the labeling sets this file does not replace come along, ahead of its rows.
        ctx.progress('keeping the stored labeling sets the file does not replace', CHECK_UNTIL);
        carried = await deps.store.labels.carryOver(run, run.transformId, basedOn, generation, read.setSizes.keys());
      }
      return {
        labelChange: {
          generation,
          basedOn: props.Replace ? undefined : basedOn,
          labelCount: read.rows + carried.rows,
          // A labeling set with two or more rows says something about matching: that makes a transform READY.
          ready: ownReady || carried.someSetHasTwo,
        },
        properties: {
          ImportLabelsTaskRunProperties: { ...props, LabelingSetCount: read.setSizes.size, LabeledRowCount: read.rows },
        },
      };
    },
  };
}

interface ReadLabels {
  rows: number;
  /** Rows per labeling set of the file. */
  setSizes: Map<string, number>;
  /**
   * The labeled primary keys in file order, repeats included, one array per batch read: a JavaScript
   * Set of them would stop at 2^24 entries, and DuckDB finds the distinct ones when it checks them.
   */
  keys: string[][];
}

/** Streams every part of the label file into `generation`, LABEL_BATCH_ROWS rows per write. */
async function readLabels(deps: ImportLabelsDeps, ctx: TaskContext, path: string, generation: number): Promise<ReadLabels> {
  const at = s3LocationOf(path, 'Invalid label file path.');
  const schema = transformColumns(ctx.transform);
  const tooLarge = () => new TaskFailure(`Label file has exceeded the limit of ${Math.floor(deps.maxLabelBytes / 2 ** 20)} MB.`);
  const read: ReadLabels = { rows: 0, setSizes: new Map(), keys: [] };
  try {
    const files = await dataObjectsAt(ctx.objects, at);
    if (files.length === 0) {
      throw new TaskFailure(`Cannot access the label file at ${path}. There is no object at that key or under that prefix.`);
    }
    const total = files.reduce((n, f) => n + f.size, 0);
    if (total > deps.maxLabelBytes) throw tooLarge();
    const seen = new LabeledRecords(schema.primaryKey);
    let bytes = 0;
    for (const file of files) {
      const uri = formatS3Uri({ bucket: at.bucket, key: file.key });
      ctx.progress(`reading ${uri}`, READ_UNTIL * (bytes / Math.max(1, total)));
      const { body } = await ctx.objects.getObject(at.bucket, file.key);
      const onBytes = (n: number) => {
        bytes += n;
        // The object may have grown since it was listed.
        if (bytes > deps.maxLabelBytes) throw tooLarge();
      };
      for await (const batch of readLabelFile(body, uri, schema, { batchRows: LABEL_BATCH_ROWS, seen, onBytes })) {
        await deps.store.labels.addRows(ctx.run, ctx.run.transformId, generation, batch, read.rows + 1);
        read.rows += batch.length;
        read.keys.push(batch.map((row) => row.values[schema.primaryKey]!));
        for (const row of batch) read.setSizes.set(row.labelingSetId, (read.setSizes.get(row.labelingSetId) ?? 0) + 1);
        ctx.progress(`reading ${uri}`, READ_UNTIL * Math.min(1, bytes / Math.max(1, total)));
      }
    }
    return read;
  } catch (e) {
    if (e instanceof LabelFileError) throw new TaskFailure(e.message);
    if (e instanceof ObjectStoreError) throw new TaskFailure(`Cannot access the label file at ${path}. ${e.message}`);
    throw e;
  }
}

/**
 * Labels must describe records of the transform's table: a primary key the table does not have
 * means the file belongs to another table or an older extract, which would teach the matcher
 * about records it will never see. DuckDB stages the table (with every check of a table read) and
 * anti-joins the labeled keys against it; the first missing keys are named in file order.
 */
async function checkRecordsExist(deps: ImportLabelsDeps, ctx: TaskContext, keys: readonly string[][]): Promise<void> {
  const { primaryKey } = transformColumns(ctx.transform);
  const input = (ctx.transform.doc['InputRecordTables'] as Array<Record<string, string>>)[0]!;
  const name = `${input['DatabaseName']}.${input['TableName']}`;
  const table = await deps.store.getTable(
    ctx.run,
    input['CatalogId'] ?? ctx.run.accountId,
    input['DatabaseName']!.toLowerCase(),
    input['TableName']!.toLowerCase(),
  );
  if (!table) throw new TaskFailure(`The transform's input table ${name} no longer exists in the catalog.`);
  let missing: MissingKeys;
  try {
    missing = await findMissingCatalogKeys(table, ctx.objects, await partitionsToRead(deps.store, table), { primaryKey, keys, sample: MISSING_KEYS_NAMED });
  } catch (e) {
    if (e instanceof TableDataError) throw new TaskFailure(`Cannot read the transform's input table ${name}: ${e.message}`);
    if (e instanceof ObjectStoreError) throw new TaskFailure(`Cannot read the transform's input table ${name}: ${e.message}`);
    throw e;
  }
  if (missing.count === 0) return;
  throw new TaskFailure(
    `${missing.count} labeled record(s) are not in the input table ${name} (primary key ${primaryKey}): ` +
      `${missing.first.join(', ')}${missing.count > MISSING_KEYS_NAMED ? ', ...' : ''}. ` +
      "Labels must describe records of the transform's table.",
  );
}
