import { loadEngineLabels, loadEngineTable } from '../../catalog/engine-table.js';
import { TableDataError } from '../../catalog/table-data/table-data-error.js';
import { partitionsToRead } from '../../catalog/table-source.js';
import type { EngineLabel, EngineRun, EngineTable, MatchParameters } from '../../engine/api.js';
import { LabelsReplaced, type MetadataStore } from '../../storage/metadata-store.js';
import { ObjectStoreError, type ObjectStore } from '../../storage/object-store.js';
import type { TableRecord, TransformRecord } from '../../storage/records.js';
import { TaskFailure, type TaskContext } from '../task-handler.js';
import { transformColumns } from './transform-columns.js';

export interface MatcherInputDeps {
  store: MetadataStore;
  /** The server's DOPPEL_SEED, given to the engine as MatchParameters.seed (default 0). */
  seed?: number;
}

export interface MatcherInput {
  table: EngineTable;
  labels: EngineLabel[];
  params: MatchParameters;
  primaryKey: string;
  /** `database.table`, for messages. */
  tableName: string;
}

/** The transform's FindMatchesParameters in the engine's form, with the server's seed. */
export function matchParameters(t: TransformRecord, seed = 0): MatchParameters {
  const p = (t.doc['Parameters'] as { FindMatchesParameters?: Record<string, unknown> } | undefined)
    ?.FindMatchesParameters ?? {};
  const out: MatchParameters = { seed };
  if (typeof p['PrecisionRecallTradeoff'] === 'number') out.precisionRecallTradeoff = p['PrecisionRecallTradeoff'];
  if (typeof p['AccuracyCostTradeoff'] === 'number') out.accuracyCostTradeoff = p['AccuracyCostTradeoff'];
  if (typeof p['EnforceProvidedLabels'] === 'boolean') out.enforceProvidedLabels = p['EnforceProvidedLabels'];
  return out;
}

/**
 * Loads what the matcher needs for a task run: the table (the transform's own, or `override`), the
 * stored labels and the transform's parameters. Problems with the data fail the run with a message
 * that names the table.
 */
export async function loadMatcherInput(
  deps: MatcherInputDeps,
  ctx: TaskContext,
  override?: { database: string; table: string },
  pushDownPredicate?: string,
): Promise<MatcherInput> {
  const { primaryKey } = transformColumns(ctx.transform);
  const { record, name } = await transformTable(deps, ctx, override);
  ctx.progress(`reading table ${name}`, 0);
  const table = await readTable(deps, record, ctx, primaryKey, name, pushDownPredicate);
  const labels = await loadLabels(deps, ctx, primaryKey);
  return { table, labels, params: matchParameters(ctx.transform, deps.seed ?? 0), primaryKey, tableName: name };
}

/** The catalog record of the transform's input table (or of `override`), and its `database.table` name. */
export async function transformTable(
  deps: MatcherInputDeps,
  ctx: TaskContext,
  override?: { database: string; table: string },
  argument = '--input-database / --input-table',
): Promise<{ record: TableRecord; name: string }> {
  const input = (ctx.transform.doc['InputRecordTables'] as Array<Record<string, string>>)[0]!;
  const database = override?.database ?? input['DatabaseName']!;
  const tableName = override?.table ?? input['TableName']!;
  const name = `${database}.${tableName}`;
  const record = await deps.store.getTable(
    ctx.run,
    input['CatalogId'] ?? ctx.run.accountId,
    database.toLowerCase(),
    tableName.toLowerCase(),
  );
  if (!record) {
    throw new TaskFailure(
      override
        ? `Table ${name} (${argument}) does not exist in the catalog.`
        : `The transform's input table ${name} no longer exists in the catalog.`,
    );
  }
  return { record, name };
}

/**
 * A catalog table's rows (through its catalog partitions, only those `pushDownPredicate` selects
 * when given); problems with the data fail the run with a message that names the table.
 */
export async function readTable(
  deps: MatcherInputDeps,
  record: TableRecord,
  ctx: TaskContext,
  primaryKey: string,
  name: string,
  pushDownPredicate?: string,
): Promise<EngineTable> {
  try {
    const partitions = await partitionsToRead(deps.store, record, pushDownPredicate);
    return await loadEngineTable(record, partitions, ctx.objects, primaryKey);
  } catch (e) {
    if (e instanceof TableDataError || e instanceof ObjectStoreError) {
      throw new TaskFailure(`Cannot read table ${name}: ${e.message}`);
    }
    throw e;
  }
}

/**
 * The transform's stored labels. Every label was imported with a value in the primary key column of
 * its time; one without a value in today's (UpdateMLTransform changed PrimaryKeyColumnName since)
 * would silently match no row, so the run fails instead.
 */
export async function loadLabels(deps: MatcherInputDeps, ctx: TaskContext, primaryKey: string): Promise<EngineLabel[]> {
  let labels: EngineLabel[];
  try {
    labels = await loadEngineLabels(deps.store, ctx.run, ctx.run.transformId, primaryKey);
  } catch (e) {
    if (e instanceof LabelsReplaced) throw new TaskFailure(`${e.message} Start the run again.`);
    throw e;
  }
  let keyless = 0;
  let first: EngineLabel | undefined;
  for (const label of labels) {
    if (label.key !== '') continue;
    keyless++;
    first ??= label;
  }
  if (first) {
    throw new TaskFailure(
      `${keyless} of the transform's ${labels.length} labels have no value in its primary key column ${primaryKey} ` +
        `(the first in labeling set ${first.labelingSetId}): they were imported under another PrimaryKeyColumnName. ` +
        `Import labels that hold ${primaryKey} with ReplaceAllLabels, or set PrimaryKeyColumnName back.`,
    );
  }
  return labels;
}

/** The part of a whole run that one step takes, as fractions of the run: [from, to]. */
export type ProgressSlice = readonly [from: number, to: number];

/**
 * Runs one engine call for a task run: the engine's progress (a fraction of the engine call) is
 * reported as the run's, within `slice`, and a failure becomes the run's ErrorString ("<what> failed: …").
 */
export async function runEngine<T>(
  ctx: TaskContext,
  what: string,
  slice: ProgressSlice,
  call: (run: EngineRun) => Promise<T>,
): Promise<T> {
  const [from, to] = slice;
  try {
    return await call({
      progress: (stage, fraction) => ctx.progress(stage, fraction === undefined ? undefined : from + fraction * (to - from)),
    });
  } catch (e) {
    if (e instanceof TaskFailure) throw e;
    throw new TaskFailure(`${what} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
