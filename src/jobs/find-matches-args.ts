/**
 * The arguments of a `findmatches` job (Glue passes job arguments as `--name value` strings).
 * Parsed when a run starts and again by the task kind, so both agree on what a run means.
 */
export type OutputFormat = 'csv' | 'json' | 'parquet';

export interface FindMatchesArgs {
  transformId: string;
  outputPath: string;
  outputFormat: OutputFormat;
  computeMatchConfidenceScores: boolean;
  removeDuplicates: boolean;
  inputDatabase?: string;
  inputTable?: string;
}

/** The command name of jobs doppel runs itself. */
export const FIND_MATCHES_COMMAND = 'findmatches';

export class ArgumentError extends Error {}

const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/s;

function flag(args: Record<string, string>, name: string): boolean {
  const v = args[name];
  if (v === undefined) return false;
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

export function parseFindMatchesArgs(args: Record<string, string>): FindMatchesArgs {
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
  return {
    transformId,
    outputPath,
    outputFormat: format,
    computeMatchConfidenceScores: flag(args, '--compute-match-confidence-scores'),
    removeDuplicates: flag(args, '--remove-duplicates'),
    ...(inputDatabase !== undefined ? { inputDatabase, inputTable } : {}),
  };
}
