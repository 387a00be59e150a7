import { loadEngineLabels, loadEngineTable } from '../../catalog/engine-table.js';
import { TableDataError } from '../../catalog/table-data/table-data-error.js';
import { partitionsToRead } from '../../catalog/table-source.js';
import type { EngineLabel, EngineRun, EngineTable, MatchParameters } from '../../engine/api.js';
import { concatTables, takeRows } from '../../engine/index.js';
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
  /** Labeled records `table` lacks that were taken from the transform's table (labeledRecordsElsewhere). */
  labeledElsewhere?: LabeledElsewhere;
  /** Labeled records (distinct primary keys) found neither in `table` nor in the transform's table: their labels go unused. */
  labeledNotFound: number;
}

export interface LabeledElsewhere {
  /** The run's rows, then the labeled records taken from the transform's table (FindMatchesRun.matchedRows). */
  table: EngineTable;
  taken: number;
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
  const missing = labeledKeysNotIn(table, labels);
  // The labels name records of the transform's own table: a run over another table, or over some
  // of its partitions, takes the labeled records it lacks from there.
  const elsewhere = missing.size > 0 && (override !== undefined || pushDownPredicate !== undefined)
    ? await labeledRecordsElsewhere(deps, ctx, table, name, missing, primaryKey)
    : undefined;
  const notFound = missing.size - (elsewhere?.taken ?? 0);
  if (notFound > 0) {
    const where = override !== undefined || pushDownPredicate !== undefined ? `${name} nor in the transform's table` : name;
    ctx.progress(`${notFound} labeled records are not in ${where}: their labels are not used`);
  }
  return {
    table,
    labels,
    params: matchParameters(ctx.transform, deps.seed ?? 0),
    primaryKey,
    tableName: name,
    ...(elsewhere ? { labeledElsewhere: elsewhere } : {}),
    labeledNotFound: notFound,
  };
}

/** The distinct primary keys of labeled records that `table` does not hold. */
export function labeledKeysNotIn(table: EngineTable, labels: readonly EngineLabel[]): Set<string> {
  const missing = new Set<string>();
  for (const label of labels) missing.add(label.key);
  for (const value of table.columns[table.primaryKey]!.values) missing.delete(value);
  return missing;
}

/**
 * The labeled records with the `missing` keys, read from the transform's own table (the first row
 * of each key) in the columns of the run's `table`, appended to it; undefined when that table
 * holds none of them.
 */
async function labeledRecordsElsewhere(
  deps: MatcherInputDeps,
  ctx: TaskContext,
  table: EngineTable,
  name: string,
  missing: ReadonlySet<string>,
  primaryKey: string,
): Promise<LabeledElsewhere | undefined> {
  const own = await transformTable(deps, ctx);
  ctx.progress(`${missing.size} labeled records are not in ${name}: reading them from the transform's table ${own.name}`);
  const source = await readTable(deps, own.record, ctx, primaryKey, own.name);
  const pk = source.columns[source.primaryKey]!;
  const wanted = new Uint8Array(pk.values.length);
  pk.values.forEach((v, code) => { if (missing.has(v)) wanted[code] = 1; });
  const rows: number[] = [];
  for (let r = 0; r < source.rowCount; r++) {
    const code = pk.codes[r]!;
    if (code < 0 || !wanted[code]) continue;
    wanted[code] = 0;
    rows.push(r);
  }
  if (rows.length === 0) return undefined;
  // In the run's columns: one the transform's table lacks is missing in its records.
  const byName = new Map(source.columns.map((c) => [c.name.toLowerCase(), c]));
  const columns = table.columns.map((c) => byName.get(c.name.toLowerCase()) ?? { ...c, codes: new Int32Array(source.rowCount).fill(-1), values: [] });
  const reordered: EngineTable = { columns, primaryKey: table.primaryKey, rowCount: source.rowCount };
  return { table: concatTables(table, takeRows(reordered, rows)), taken: rows.length };
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
