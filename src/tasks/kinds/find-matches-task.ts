import { stringify } from 'csv-stringify/sync';
import type { IncrementalMatchResult, Matcher, MatchResult } from '../../engine/api.js';
import { valueAt } from '../../engine/index.js';
import { misspellingMessage, type FindMatchesArgs, type IncrementalArgs } from '../../jobs/find-matches-args.js';
import { notReadyMessage } from '../../jobs/job-service.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { loadIncrementalInput, type IncrementalInput } from './incremental-input.js';
import { removeIncrementalState, writeIncrementalState } from './incremental-state.js';
import { ObjectStoreError } from '../../storage/object-store.js';
import { goldenRecords } from './golden-records.js';
import { outputColumnNames, writeMatchOutput } from './match-output.js';
import { s3LocationOf, writeCsvOutput, writingTo } from './task-paths.js';
import { loadMatcherInput, runEngine, type MatcherInput, type MatcherInputDeps } from './matcher-input.js';
import { executePart, isPart, partCount, scoreInParts, type PartitionConfig } from './find-matches-parts.js';

export interface FindMatchesDeps extends MatcherInputDeps {
  matcher: Matcher;
  partitions: PartitionConfig;
}

/**
 * FIND_MATCHES (a run of a `findmatches` job): trains on every stored label, groups the table's
 * rows and writes every row once with its `match_id` under `--output-path`. The output is written
 * completely before `_SUCCESS`, and nothing else changes, so an interrupted run can simply run again.
 * With `--existing-path` it is an incremental run (FindIncrementalMatches): the previous output's
 * records keep their ids and the new records are matched against them (engine incremental.ts).
 * A full run over many rows scores its candidate pairs in parts, and a part is a run of this kind
 * too (find-matches-parts.ts).
 */
export function findMatchesTask(deps: FindMatchesDeps): TaskHandler {
  return {
    async execute(ctx: TaskContext): Promise<TaskResult> {
      if (isPart(ctx.run)) return executePart(deps, ctx);
      const args = ctx.run.args as unknown as FindMatchesArgs;
      // Each is a stage of its own: the server's log and a waiting `doppel find-matches` show it.
      for (const m of args.misspelled ?? []) ctx.progress(misspellingMessage(m));
      if (ctx.transform.status !== 'READY') {
        throw new TaskFailure(notReadyMessage(ctx.transform.id, ctx.transform.status));
      }
      const at = s3LocationOf(args.outputPath, 'Argument --output-path:');
      let input: MatcherInput;
      let result: MatchResult;
      let incrementalCounts: Record<string, number | boolean> = {};
      let parts = 1;
      let copy: IncrementalInput['copy'];
      // Runs recorded before --golden-records existed have no such argument.
      const golden = args.goldenRecords === true;
      if (args.incremental) {
        const inc = await loadIncrementalInput(deps, ctx, args.incremental, {
          format: args.outputFormat,
          confidence: args.computeMatchConfidenceScores,
          explain: args.explain === true,
          everyRecord: !args.removeDuplicates && !golden,
        });
        copy = inc.copy;
        if (args.computeMatchConfidenceScores && !inc.existing.confidence) {
          throw new TaskFailure(
            `Argument --compute-match-confidence-scores: the existing matches at ${args.incremental.existingPath} have no match_confidence_score ` +
              '(write them with --compute-match-confidence-scores true, or run this one without).',
          );
        }
        input = inc;
        const added = inc.table.rowCount - inc.existing.rows;
        ctx.progress(`matching ${added} new records against ${inc.existing.rows} existing ones`, 0.2);
        const found = await runEngine(ctx, 'Finding incremental matches', [0.2, 0.9], (run) =>
          deps.matcher.findIncrementalMatches(inc.table, inc.existing, inc.labels, inc.params, run),
        );
        if (args.incremental.conflictsPath) await writeConflicts(ctx, args.incremental, inc, found);
        // Existing records are written as they were: their match_confidence_score too (a group that
        // gained records carries its new score on those records).
        if (inc.existing.confidence) found.confidence.set(inc.existing.confidence);
        result = found;
        incrementalCounts = {
          IncrementalRecordCount: added,
          JoinedExistingCount: found.stats.joinedExisting,
          ConflictCount: found.conflicts.length,
          // doppel's own: whether the state kept beside the existing matches spared preparing them.
          IncrementalStateUsed: found.stateUse.used,
          // doppel's own: whether the existing records' part files were copied into the output, not read and rewritten.
          ExistingRecordsCopied: copy !== undefined,
        };
      } else {
        const override =
          args.inputDatabase !== undefined && args.inputTable !== undefined
            ? { database: args.inputDatabase, table: args.inputTable }
            : undefined;
        const full = await loadMatcherInput(deps, ctx, override, args.pushDownPredicate);
        input = full;
        // Reading the table takes the first fifth of the run, matching most of the rest, writing the last tenth.
        ctx.progress(`finding matches among ${full.table.rowCount} rows of ${full.tableName}`, 0.2);
        parts = partCount(ctx.transform, full.table.rowCount, deps.partitions.partitionRows);
        const elsewhere = full.labeledElsewhere;
        result = await runEngine(ctx, 'Finding matches', [0.2, 0.9], (run) =>
          deps.matcher.findMatches(elsewhere?.table ?? full.table, full.labels, full.params, {
            ...run,
            ...(elsewhere ? { matchedRows: full.table.rowCount } : {}),
            ...(parts > 1 ? { scoreElsewhere: (plan) => scoreInParts(deps, ctx, at, plan, parts) } : {}),
          }),
        );
      }
      ctx.progress(
        copy
          ? `writing ${args.outputFormat} output to ${args.outputPath}: the existing records' ${copy.parts.length} part files copied, the new records after them`
          : `writing ${args.outputFormat} output to ${args.outputPath}`,
        0.9,
      );
      const output = golden ? goldenRecords(input.table, result) : { table: input.table, result };
      const explain = args.explain === true;
      // The state for the next incremental run, beside the output: only when the output holds every
      // row in order, and unless the job declined it (runs recorded before the argument existed kept it).
      // A run that took labeled records from the transform's table has no state (FindMatchesRun.matchedRows).
      // It is part of the output, written before `_SUCCESS`: a run stopped while keeping it leaves
      // no marker, and an earlier output's state never sits beside a new output's marker.
      const keepState = args.keepIncrementalState !== false && args.removeDuplicates !== true && args.goldenRecords !== true && result.state !== undefined;
      const writeState = async (parts: string[]) => {
        if (!keepState) return removeIncrementalState(ctx.objects, at);
        ctx.progress('keeping the incremental state beside the output', 0.98);
        try {
          await writeIncrementalState(ctx.objects, at, result, {
            format: args.outputFormat,
            columns: outputColumnNames(input.table.columns.map((c) => c.name), args.computeMatchConfidenceScores, explain),
            confidence: args.computeMatchConfidenceScores,
            parts: parts.map((uri) => uri.slice(uri.lastIndexOf('/') + 1)),
          });
        } catch (e) {
          // The output is complete without it: the next incremental run prepares the records itself.
          if (e instanceof ObjectStoreError) throw e;
          ctx.progress(`not keeping an incremental state: ${e instanceof Error ? e.message : String(e)}`, 0.99);
          await removeIncrementalState(ctx.objects, at);
        }
      };
      const written = await writingTo(args.outputPath, () =>
        writeMatchOutput(ctx.objects, at, output.table, output.result, {
          format: args.outputFormat,
          confidence: args.computeMatchConfidenceScores,
          removeDuplicates: args.removeDuplicates,
          // Runs recorded before --explain existed have no such argument.
          explain,
          ...(copy ? { copy } : {}),
          beforeMarker: writeState,
        }),
      );
      const props = ctx.run.properties['FindMatchesTaskRunProperties'] as Record<string, unknown> | undefined;
      return {
        properties: {
          FindMatchesTaskRunProperties: {
            ...(props ?? {}),
            OutputS3Path: args.outputPath,
            InputRecordCount: input.table.rowCount,
            OutputRecordCount: written.rows,
            MatchGroupCount: result.stats.groups,
            // doppel's own members (SDKs ignore them): the work behind the grouping.
            CandidatePairCount: result.stats.candidatePairs,
            ScoredPairCount: result.stats.scoredPairs,
            FullyScoredPairCount: result.stats.fullyScoredPairs,
            MatchedPairCount: result.stats.matchedPairs,
            // doppel's own: how many part runs scored the candidate pairs (1: this run alone).
            PartCount: parts,
            // doppel's own: labeled records the run's table lacks, taken from the transform's table for training, and
            // those found nowhere, whose labels went unused.
            LabeledRecordsFromTransformTable: input.labeledElsewhere?.taken ?? 0,
            LabeledRecordsNotFound: input.labeledNotFound,
            ...incrementalCounts,
          },
        },
      };
    },
  };
}

/**
 * The new records that match more than one existing group, one line per group they match:
 * the record's key, the id it got, an existing group's id and the best probability of a pair with it.
 */
async function writeConflicts(ctx: TaskContext, args: IncrementalArgs, input: MatcherInput, result: IncrementalMatchResult) {
  const uri = args.conflictsPath!;
  const lines: unknown[][] = [[input.primaryKey, 'match_id', 'existing_match_id', 'probability']];
  for (const c of result.conflicts) {
    const key = valueAt(input.table, input.table.primaryKey, c.row);
    for (const g of c.groups) lines.push([key, c.matchId, g.matchId, g.probability]);
  }
  await writeCsvOutput(ctx.objects, uri, s3LocationOf(uri, 'Argument --conflicts-path:'), stringify(lines));
}
