import { readDataFilesAt, readMatchOutputAt, type MatchOutputTable } from '../../catalog/data-files.js';
import { TableDataError } from '../../catalog/table-data/table-data-error.js';
import { tableFormatOf, type CatalogColumn, type GlueTableDocument } from '../../catalog/table-data/table-format.js';
import type { EngineTable, ExistingMatches } from '../../engine/api.js';
import { concatTables, stateKeys, stateProblem, type IncrementalState } from '../../engine/index.js';
import type { IncrementalArgs, OutputFormat } from '../../jobs/find-matches-args.js';
import { dataObjectsAt } from '../../storage/data-objects.js';
import type { ObjectInfo } from '../../storage/object-store.js';
import { asPrefix, type S3Location } from '../../storage/s3-uri.js';
import { outputColumnNames } from './match-output.js';
import { ObjectStoreError } from '../../storage/object-store.js';
import { TaskFailure, type TaskContext } from '../task-handler.js';
import { labeledKeysNotIn, loadLabels, matchParameters, readTable, transformTable, type MatcherInput, type MatcherInputDeps } from './matcher-input.js';
import { transformColumns } from './transform-columns.js';
import { s3LocationOf } from './task-paths.js';
import { readIncrementalState, stateLocation, writtenOutputProblem, type WrittenOutput } from './incremental-state.js';
import { formatS3Uri } from '../../storage/s3-uri.js';

export interface IncrementalInput extends MatcherInput {
  /** The existing records first, then the new ones. */
  existing: ExistingMatches;
  /**
   * Set when the existing records were not read: their output is the one the incremental state
   * was written for, in this run's format and columns, so this run's output copies its parts (the
   * table holds only their primary keys; every other value is missing).
   */
  copy?: { bucket: string; prefix: string; parts: ObjectInfo[]; rows: number };
}

/** What the run writes: the output copies the existing parts only when it has their format and columns and holds every record. */
export interface OutputShape {
  format: OutputFormat;
  confidence: boolean;
  explain: boolean;
  everyRecord: boolean;
}

/**
 * What an incremental find-matches run matches: the previous output's records (with their match
 * ids and, when it has them, confidences) followed by the new records, both with the columns of
 * the transform's input table, plus the transform's labels and parameters. The transform's own
 * table is not read: its catalog definition gives the columns.
 */
export async function loadIncrementalInput(deps: MatcherInputDeps, ctx: TaskContext, args: IncrementalArgs, output: OutputShape): Promise<IncrementalInput> {
  const { primaryKey } = transformColumns(ctx.transform);
  const { record, name } = await transformTable(deps, ctx);
  const format = tableFormatOf({ ...(record.doc as GlueTableDocument), DatabaseName: record.databaseName });
  const columns = [...format.columns, ...format.partitionKeys];

  const existingAt = s3LocationOf(args.existingPath, 'Argument --existing-path:');
  // The state the run that wrote them kept (incremental-state.ts); without one the engine prepares them.
  ctx.progress(`reading the incremental state at ${formatS3Uri(stateLocation(existingAt))}`, 0);
  const kept = await readIncrementalState(ctx.objects, existingAt);
  if ('problem' in kept) ctx.progress(`not using an incremental state at ${formatS3Uri(stateLocation(existingAt))}: ${kept.problem}`);
  else ctx.progress(`read the incremental state at ${formatS3Uri(stateLocation(existingAt))}`);
  const listed = await reading('--existing-path', args.existingPath, () => dataObjectsAt(ctx.objects, existingAt));
  const outputColumns = outputColumnNames(columns.map((c) => c.name), output.confidence, output.explain);
  const unread = 'state' in kept ? existingFromState(kept.state, columns, existingAt, listed, output, outputColumns) : undefined;
  let existing: MatchOutputTable;
  if (unread && 'table' in unread) {
    ctx.progress(`taking the ${unread.table.rowCount} existing records' match ids from the incremental state: their output is unchanged`);
    existing = unread;
  } else {
    if (unread) ctx.progress(`reading every existing record: ${unread.problem}`);
    ctx.progress(`reading the existing matches at ${args.existingPath}`);
    existing = await reading('--existing-path', args.existingPath, () => readMatchOutputAt(ctx.objects, existingAt, columns, primaryKey));
  }

  const source = args.newRecords;
  ctx.progress(`reading the new records at ${'path' in source ? source.path : `${source.database}.${source.table}`}`, 0.1);
  let added: EngineTable;
  let argument: string;
  if ('path' in source) {
    argument = '--incremental-path';
    added = await reading(argument, source.path, () =>
      readDataFilesAt(ctx.objects, s3LocationOf(source.path, 'Argument --incremental-path:'), columns, primaryKey),
    );
  } else {
    argument = '--incremental-database / --incremental-table';
    const table = await transformTable(deps, ctx, source, argument);
    added = inColumnsOf(columns, await readTable(deps, table.record, ctx, primaryKey, table.name), `Table ${table.name} (${argument})`);
  }
  // The new records' keys in a Set (the small side), the existing keys looked up in it.
  const addedKeys = new Set(keysOf(added));
  const existingKeys = existing.table.columns[existing.table.primaryKey]!.values;
  const repeated = existingKeys.find((k) => addedKeys.has(k));
  if (repeated !== undefined) {
    throw new TaskFailure(`Argument ${argument}: record ${primaryKey} = ${repeated} is already in the existing matches at ${args.existingPath}.`);
  }
  const table = concatTables(existing.table, added);
  const labels = await loadLabels(deps, ctx, primaryKey);
  return {
    table,
    ...(unread && 'table' in unread ? { copy: { bucket: existingAt.bucket, prefix: asPrefix(existingAt.key), parts: listed, rows: existing.table.rowCount } } : {}),
    existing: {
      rows: existing.table.rowCount,
      matchId: existing.matchId,
      ...(existing.confidence ? { confidence: existing.confidence } : {}),
      ...('state' in kept ? { state: kept.state } : {}),
    },
    labels,
    params: matchParameters(ctx.transform, deps.seed ?? 0),
    primaryKey,
    tableName: name,
    labeledNotFound: labeledKeysNotIn(table, labels).size,
  };
}

/**
 * The existing records as the state stands for them, when their output can be copied instead of
 * read: it lists exactly the part files the state was written with (names, sizes, ETags), in this
 * run's format and columns, and the state covers the transform's columns. The table holds the
 * records' primary keys (the state's) and no other value; the match ids and confidences are the
 * state's, which are the ones written.
 */
function existingFromState(
  state: IncrementalState,
  columns: CatalogColumn[],
  at: S3Location,
  listed: readonly ObjectInfo[],
  output: OutputShape,
  outputColumns: readonly string[],
): MatchOutputTable | { problem: string } {
  const changed = writtenOutputProblem(state, at, listed);
  if (changed) return { problem: `the existing output is not the one the incremental state was written for (${changed})` };
  const written = JSON.parse(state.written!.output) as WrittenOutput;
  if (!output.everyRecord) return { problem: 'this run does not write every record' };
  if (written.format !== output.format || written.columns.length !== outputColumns.length || written.columns.some((c, i) => c !== outputColumns[i])) {
    return { problem: `the existing output (${written.format}: ${written.columns.join(', ')}) is not in this run's format and columns (${output.format}: ${outputColumns.join(', ')})` };
  }
  if (state.columnNames.length !== columns.length || state.columnNames.some((n, i) => n !== columns[i]!.name)) {
    return { problem: `the incremental state's columns (${state.columnNames.join(', ')}) are not the transform's` };
  }
  const keys = stateKeys(state);
  const e = keys.length;
  const table: EngineTable = {
    columns: columns.map((c, i) =>
      i === state.primaryKey
        ? { name: c.name, type: c.type, values: keys, codes: Int32Array.from({ length: e }, (_, r) => r) }
        : { name: c.name, type: c.type, values: [], codes: new Int32Array(e).fill(-1) },
    ),
    primaryKey: state.primaryKey,
    rowCount: e,
  };
  const problem = stateProblem(state, table, e);
  if (problem) return { problem: `the incremental state does not fit the existing records: ${problem}` };
  const { matchId, confidence } = state.written!;
  return { table, matchId, ...(confidence ? { confidence } : {}) };
}

/** Reads data files an argument names; problems with them fail the run with a message naming the argument. */
async function reading<T>(argument: string, uri: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof TableDataError || e instanceof ObjectStoreError) throw new TaskFailure(`Argument ${argument}: cannot read ${uri}: ${e.message}`);
    throw e;
  }
}

function keysOf(table: EngineTable): string[] {
  const pk = table.columns[table.primaryKey]!;
  return Array.from(pk.codes, (code) => pk.values[code]!);
}

/** `table`'s columns reordered as `columns` (found by name, case-insensitively, as Hive does). */
function inColumnsOf(columns: CatalogColumn[], table: EngineTable, what: string): EngineTable {
  const byName = new Map(table.columns.map((c, i) => [c.name.toLowerCase(), i]));
  const order = columns.map((c) => {
    const i = byName.get(c.name.toLowerCase());
    if (i === undefined) {
      throw new TaskFailure(`${what} has no column ${c.name}; the transform's table has ${columns.map((x) => x.name).join(', ')}.`);
    }
    return i;
  });
  return { columns: order.map((i) => table.columns[i]!), primaryKey: order.indexOf(table.primaryKey), rowCount: table.rowCount };
}
