import { readDataFilesAt, readMatchOutputAt } from '../../catalog/data-files.js';
import { TableDataError } from '../../catalog/table-data/table-data-error.js';
import { tableFormatOf, type CatalogColumn, type GlueTableDocument } from '../../catalog/table-data/table-format.js';
import type { EngineTable, ExistingMatches } from '../../engine/api.js';
import { concatTables } from '../../engine/index.js';
import type { IncrementalArgs } from '../../jobs/find-matches-args.js';
import { ObjectStoreError } from '../../storage/object-store.js';
import { TaskFailure, type TaskContext } from '../task-handler.js';
import { loadLabels, matchParameters, readTable, transformTable, type MatcherInput, type MatcherInputDeps } from './matcher-input.js';
import { transformColumns } from './transform-columns.js';
import { s3LocationOf } from './task-paths.js';
import { readIncrementalState, stateLocation } from './incremental-state.js';
import { formatS3Uri } from '../../storage/s3-uri.js';

export interface IncrementalInput extends MatcherInput {
  /** The existing records first, then the new ones. */
  existing: ExistingMatches;
}

/**
 * What an incremental find-matches run matches: the previous output's records (with their match
 * ids and, when it has them, confidences) followed by the new records, both with the columns of
 * the transform's input table, plus the transform's labels and parameters. The transform's own
 * table is not read: its catalog definition gives the columns.
 */
export async function loadIncrementalInput(deps: MatcherInputDeps, ctx: TaskContext, args: IncrementalArgs): Promise<IncrementalInput> {
  const { primaryKey } = transformColumns(ctx.transform);
  const { record, name } = await transformTable(deps, ctx);
  const format = tableFormatOf({ ...(record.doc as GlueTableDocument), DatabaseName: record.databaseName });
  const columns = [...format.columns, ...format.partitionKeys];

  ctx.progress(`reading the existing matches at ${args.existingPath}`, 0);
  const existingAt = s3LocationOf(args.existingPath, 'Argument --existing-path:');
  const existing = await reading('--existing-path', args.existingPath, () => readMatchOutputAt(ctx.objects, existingAt, columns, primaryKey));
  // The state the run that wrote them kept (incremental-state.ts); without one the engine prepares them.
  const kept = await readIncrementalState(ctx.objects, existingAt);
  if ('problem' in kept) ctx.progress(`not using an incremental state at ${formatS3Uri(stateLocation(existingAt))}: ${kept.problem}`);
  else ctx.progress(`read the incremental state at ${formatS3Uri(stateLocation(existingAt))}`);

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
  return {
    table,
    existing: {
      rows: existing.table.rowCount,
      matchId: existing.matchId,
      ...(existing.confidence ? { confidence: existing.confidence } : {}),
      ...('state' in kept ? { state: kept.state } : {}),
    },
    labels: await loadLabels(deps, ctx, primaryKey),
    params: matchParameters(ctx.transform, deps.seed ?? 0),
    primaryKey,
    tableName: name,
  };
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
