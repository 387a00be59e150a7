import { TableDataError } from '../../catalog/table-data/table-data-error.js';
import { readCatalogTable } from '../../catalog/table-source.js';
import { dataObjectsAt, readObject } from '../../storage/data-objects.js';
import type { MetadataStore } from '../../storage/metadata-store.js';
import { ObjectStoreError, type ObjectStore } from '../../storage/object-store.js';
import type { LabelRow } from '../../storage/records.js';
import { formatS3Uri } from '../../storage/s3-uri.js';
import { LabelFileError, parseLabelFile } from '../../transforms/labels/label-file.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { s3LocationOf } from './task-paths.js';
import { transformColumns } from './transform-columns.js';

export interface ImportLabelsDeps {
  objects: ObjectStore;
  store: MetadataStore;
  /** Label files larger than this (all parts together) are refused. */
  maxLabelBytes: number;
}

/**
 * IMPORT_LABELS: reads the label file (one object, or every CSV part under a prefix), checks all of
 * it, and only then hands the rows to the queue, which stores them together with SUCCEEDED. A bad
 * file therefore changes nothing, and a run interrupted half-way can simply run again.
 */
export function importLabelsTask(deps: ImportLabelsDeps): TaskHandler {
  return {
    resumable: () => true,
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const props = ctx.run.properties['ImportLabelsTaskRunProperties'] as { InputS3Path: string; Replace?: boolean };
      const rows = await readLabels(deps, ctx, props.InputS3Path);
      await ctx.progress(`checking ${rows.length} labeled rows against the transform's table`);
      await checkRecordsExist(deps, ctx, rows);
      const sets = new Set(rows.map((r) => r.labelingSetId)).size;
      await ctx.progress(`read ${rows.length} labeled rows in ${sets} labeling sets`);
      return {
        labelChange: { mode: props.Replace ? 'replace-all' : 'append', rows },
        properties: {
          ImportLabelsTaskRunProperties: { ...props, LabelingSetCount: sets, LabeledRowCount: rows.length },
        },
      };
    },
  };
}

/**
 * Labels must describe records of the transform's table: a primary key the table does not have
 * means the file belongs to another table or an older extract, which would teach the matcher
 * about records it will never see. Only the labeled keys are held in memory while the table streams.
 */
async function checkRecordsExist(deps: ImportLabelsDeps, ctx: TaskContext, rows: LabelRow[]): Promise<void> {
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
  const missing = new Set(rows.map((r) => r.values[primaryKey]!));
  try {
    for await (const batch of readCatalogTable(table, deps.objects, { primaryKey })) {
      ctx.signal.throwIfAborted();
      const k = batch.columns.indexOf(primaryKey);
      for (const row of batch.rows) missing.delete(row[k] ?? '');
      if (missing.size === 0) return;
    }
  } catch (e) {
    if (e instanceof TableDataError) throw new TaskFailure(`Cannot read the transform's input table ${name}: ${e.message}`);
    if (e instanceof ObjectStoreError) throw new TaskFailure(`Cannot read the transform's input table ${name}: ${e.message}`);
    throw e;
  }
  const some = [...missing].slice(0, 5).join(', ');
  throw new TaskFailure(
    `${missing.size} labeled record(s) are not in the input table ${name} (primary key ${primaryKey}): ` +
      `${some}${missing.size > 5 ? ', ...' : ''}. Labels must describe records of the transform's table.`,
  );
}

async function readLabels(deps: ImportLabelsDeps, ctx: TaskContext, path: string): Promise<LabelRow[]> {
  const at = s3LocationOf(path, 'Invalid label file path.');
  const schema = transformColumns(ctx.transform);
  try {
    const files = await dataObjectsAt(deps.objects, at);
    if (files.length === 0) {
      throw new TaskFailure(`Cannot access the label file at ${path}. There is no object at that key or under that prefix.`);
    }
    const total = files.reduce((n, f) => n + f.size, 0);
    if (total > deps.maxLabelBytes) {
      throw new TaskFailure(`Label file has exceeded the limit of ${Math.floor(deps.maxLabelBytes / 2 ** 20)} MB.`);
    }
    const rows: LabelRow[] = [];
    const firstSeen = new Map<string, string>();
    for (const file of files) {
      ctx.signal.throwIfAborted();
      const uri = formatS3Uri({ bucket: at.bucket, key: file.key });
      const bytes = await readObject(deps.objects, { bucket: at.bucket, key: file.key }, deps.maxLabelBytes);
      for (const row of parseLabelFile(bytes, uri, schema)) {
        // Within a file the parser catches repeats; across parts of one import, so do we.
        const key = JSON.stringify([row.labelingSetId, row.values[schema.primaryKey]]);
        const other = firstSeen.get(key);
        if (other !== undefined && other !== uri) {
          throw new TaskFailure(
            `${uri}: record ${schema.primaryKey}=${row.values[schema.primaryKey]} of labeling set ` +
              `${row.labelingSetId} is also in ${other}`,
          );
        }
        firstSeen.set(key, uri);
        rows.push(row);
      }
    }
    return rows;
  } catch (e) {
    if (e instanceof LabelFileError) throw new TaskFailure(e.message);
    if (e instanceof ObjectStoreError) throw new TaskFailure(`Cannot access the label file at ${path}. ${e.message}`);
    throw e;
  }
}
