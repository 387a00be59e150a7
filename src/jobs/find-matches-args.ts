/**
 * The arguments of a `findmatches` job (Glue passes job arguments as `--name value` strings).
 * Parsed when a run starts and again by the task kind, so both agree on what a run means.
 */
import { levenshtein } from '../engine/comparators.js';
import { asPrefix } from '../storage/s3-uri.js';

export type OutputFormat = 'csv' | 'json' | 'parquet';

export interface FindMatchesArgs {
  transformId: string;
  outputPath: string;
  outputFormat: OutputFormat;
  computeMatchConfidenceScores: boolean;
  removeDuplicates: boolean;
  /** Write each record's link to its group explained (column match_explanation). */
  explain: boolean;
  /** Write one merged record per match group instead of every record (tasks/kinds/golden-records.ts). */
  goldenRecords: boolean;
  /** Keep the incremental state beside the output for a later incremental run (default true). */
  keepIncrementalState: boolean;
  inputDatabase?: string;
  inputTable?: string;
  /**
   * Glue's partition predicate over the input table's partition keys: only the catalog partitions
   * it selects are read (as `push_down_predicate` of Glue's create_dynamic_frame).
   */
  pushDownPredicate?: string;
  /** An incremental run (FindIncrementalMatches): the previous output's records keep their match ids. */
  incremental?: IncrementalArgs;
  /**
   * Arguments the run ignores that look like misspellings of one it would have read, beside that
   * one (see misspelledArguments); runs recorded before this existed have none.
   */
  misspelled?: Misspelling[];
}

/** An argument given (`given`) that is none of a findmatches job's but close to one (`meant`). */
export interface Misspelling {
  given: string;
  meant: string;
}

export interface IncrementalArgs {
  /** A previous find-matches output (its records with match_id). */
  existingPath: string;
  /** The new records: a catalog table, or data files under an S3 path. */
  newRecords: { database: string; table: string } | { path: string };
  /** Where to write the new records that match more than one existing group. */
  conflictsPath?: string;
}

/** The command name of jobs doppel runs itself. */
export const FIND_MATCHES_COMMAND = 'findmatches';

export class ArgumentError extends Error {}

/** Every argument a findmatches job reads (README "Running FindMatches"). */
export const FIND_MATCHES_ARGUMENTS = [
  '--transform-id',
  '--output-path',
  '--output-format',
  '--compute-match-confidence-scores',
  '--remove-duplicates',
  '--input-database',
  '--input-table',
  '--push-down-predicate',
  '--explain',
  '--golden-records',
  '--existing-path',
  '--incremental-path',
  '--incremental-database',
  '--incremental-table',
  '--conflicts-path',
  '--keep-incremental-state',
] as const;

/** How many single-letter edits (after lower-casing) from a findmatches argument make a misspelling of it. */
const MISSPELLING_EDITS = 2;

/**
 * The given arguments that are none of a findmatches job's but differ from one of them only by
 * case and at most MISSPELLING_EDITS letters: a misspelling far more likely than an argument of
 * its own (the shortest findmatches argument, --explain, has 7 letters). Other unknown arguments (Glue's own, such as --TempDir or
 * --enable-metrics, and anything a job passes to a script) are ignored without comment, as Glue
 * hands them to a script and a findmatches job has none.
 */
export function misspelledArguments(args: Record<string, string>): Misspelling[] {
  const known = new Set<string>(FIND_MATCHES_ARGUMENTS);
  const found: Misspelling[] = [];
  for (const given of Object.keys(args)) {
    if (!given.startsWith('--') || known.has(given)) continue;
    const name = given.toLowerCase();
    let best: { meant: string; distance: number } | undefined;
    for (const meant of FIND_MATCHES_ARGUMENTS) {
      const distance = levenshtein(name, meant, MISSPELLING_EDITS);
      if (distance <= MISSPELLING_EDITS && (!best || distance < best.distance)) best = { meant, distance };
    }
    if (best) found.push({ given, meant: best.meant });
  }
  return found;
}

/** How a misspelling is reported: the argument ignored and the one it resembles. */
export function misspellingMessage({ given, meant }: Misspelling): string {
  return `Argument ${given} is not an argument of findmatches jobs and is ignored: did you mean ${meant}?`;
}

const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/s;

function flag(args: Record<string, string>, name: string, absent = false): boolean {
  const v = args[name];
  if (v === undefined) return absent;
  const t = v.trim().toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw new ArgumentError(`Argument ${name} must be true or false, got: ${v}`);
}

/** Arguments in effect: DefaultArguments, overridden by the run's Arguments, then NonOverridableArguments. */
export function effectiveArguments(
  defaults: Record<string, string> | undefined,
  run: Record<string, string> | undefined,
  nonOverridable: Record<string, string> | undefined,
): Record<string, string> {
  return { ...(defaults ?? {}), ...(run ?? {}), ...(nonOverridable ?? {}) };
}

/**
 * A run's arguments as it reads them. A misspelled argument (misspelledArguments) whose intended
 * argument is not given as well fails the run: it surely meant to set that one. One given beside
 * the argument it resembles is kept in `misspelled`, for the run to report and go on.
 */
export function parseFindMatchesArgs(args: Record<string, string>): FindMatchesArgs {
  const misspelled = misspelledArguments(args);
  // A blank argument counts as not given, as it does for the required ones.
  const unmeant = misspelled.find((m) => !args[m.meant]?.trim());
  if (unmeant) {
    throw new ArgumentError(
      `Argument ${unmeant.given} is not an argument of findmatches jobs: did you mean ${unmeant.meant}? ` +
        `(An unknown argument this close to one that is not given is taken for a misspelling; other unknown arguments are ignored.)`,
    );
  }
  const transformId = args['--transform-id']?.trim();
  if (!transformId) throw new ArgumentError('Argument --transform-id is required (the id of a FindMatches ML transform).');
  const outputPath = args['--output-path']?.trim();
  if (!outputPath) throw new ArgumentError('Argument --output-path is required (an S3 prefix, s3://bucket/prefix/).');
  if (!S3_URI.test(outputPath)) {
    throw new ArgumentError(`Argument --output-path must be an S3 URI of the form s3://bucket/prefix, got: ${outputPath}`);
  }
  const format = (args['--output-format'] ?? 'csv').trim().toLowerCase();
  if (format !== 'csv' && format !== 'json' && format !== 'parquet') {
    throw new ArgumentError(`Argument --output-format must be csv, json or parquet, got: ${args['--output-format']}`);
  }
  const inputDatabase = args['--input-database']?.trim() || undefined;
  const inputTable = args['--input-table']?.trim() || undefined;
  if ((inputDatabase === undefined) !== (inputTable === undefined)) {
    throw new ArgumentError('Arguments --input-database and --input-table must be given together.');
  }
  const explain = flag(args, '--explain');
  const goldenRecords = flag(args, '--golden-records');
  const removeDuplicates = flag(args, '--remove-duplicates');
  if (goldenRecords && (removeDuplicates || explain)) {
    throw new ArgumentError(
      `Argument --golden-records writes one merged record per group: it cannot be combined with ${removeDuplicates ? '--remove-duplicates' : '--explain'}.`,
    );
  }
  const incremental = incrementalArgs(args);
  if (incremental && inputDatabase !== undefined) {
    throw new ArgumentError(
      'Arguments --input-database and --input-table cannot be combined with --existing-path: an incremental run reads the existing output and the new records.',
    );
  }
  const conflictsPath = incremental?.conflictsPath;
  if (conflictsPath !== undefined) {
    // The conflicts file is written first: over the existing output's part files (or the new
    // records) it would replace what the run then reads or copies, and in the output folder it
    // would be taken for a part of the output.
    const read = [
      ['--existing-path', incremental!.existingPath],
      ['--output-path', outputPath],
      ...('path' in incremental!.newRecords ? [['--incremental-path', incremental!.newRecords.path] as const] : []),
    ] as const;
    const clash = read.find(([, path]) => overlaps(conflictsPath, path));
    if (clash) {
      throw new ArgumentError(`Argument --conflicts-path (${conflictsPath}) must not overlap ${clash[0]} (${clash[1]}): use a folder of its own.`);
    }
  }
  const pushDownPredicate = args['--push-down-predicate']?.trim() || undefined;
  if (incremental && pushDownPredicate !== undefined) {
    throw new ArgumentError(
      'Argument --push-down-predicate selects partitions of the catalog table a run reads whole: it cannot be combined with --existing-path.',
    );
  }
  return {
    transformId,
    outputPath,
    outputFormat: format,
    computeMatchConfidenceScores: flag(args, '--compute-match-confidence-scores'),
    removeDuplicates,
    explain,
    goldenRecords,
    keepIncrementalState: flag(args, '--keep-incremental-state', true),
    ...(inputDatabase !== undefined ? { inputDatabase, inputTable } : {}),
    ...(pushDownPredicate !== undefined ? { pushDownPredicate } : {}),
    ...(incremental ? { incremental } : {}),
    ...(misspelled.length > 0 ? { misspelled } : {}),
  };
}

/** Whether one S3 folder holds the other (or they are the same). */
function overlaps(a: string, b: string): boolean {
  return asPrefix(a).startsWith(asPrefix(b)) || asPrefix(b).startsWith(asPrefix(a));
}

function s3Uri(args: Record<string, string>, name: string, what: string): string | undefined {
  const v = args[name]?.trim() || undefined;
  if (v !== undefined && !S3_URI.test(v)) throw new ArgumentError(`Argument ${name} must be an S3 URI (${what}), got: ${v}`);
  return v;
}

/** The arguments of an incremental run, or undefined when none is given. */
function incrementalArgs(args: Record<string, string>): IncrementalArgs | undefined {
  const existingPath = s3Uri(args, '--existing-path', 'a previous find-matches output, s3://bucket/prefix/');
  const path = s3Uri(args, '--incremental-path', 'the new records, s3://bucket/prefix/');
  const conflictsPath = s3Uri(args, '--conflicts-path', 'where to write conflicts, s3://bucket/prefix/');
  const database = args['--incremental-database']?.trim() || undefined;
  const table = args['--incremental-table']?.trim() || undefined;
  if ((database === undefined) !== (table === undefined)) {
    throw new ArgumentError('Arguments --incremental-database and --incremental-table must be given together.');
  }
  if (existingPath === undefined) {
    const given = ['--incremental-path', '--incremental-database', '--incremental-table', '--conflicts-path'].find((a) => args[a]?.trim());
    if (given) throw new ArgumentError(`Argument ${given} needs --existing-path (the previous find-matches output the new records are matched against).`);
    return undefined;
  }
  if ((path === undefined) === (database === undefined)) {
    throw new ArgumentError(
      'Argument --existing-path needs the new records: either --incremental-path or --incremental-database with --incremental-table (not both).',
    );
  }
  return {
    existingPath,
    newRecords: path !== undefined ? { path } : { database: database!, table: table! },
    ...(conflictsPath !== undefined ? { conflictsPath } : {}),
  };
}
