import type { Matcher } from '../../engine/api.js';
import type { FindMatchesArgs } from '../../jobs/find-matches-args.js';
import { notReadyMessage } from '../../jobs/job-service.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { writeMatchOutput } from './match-output.js';
import { s3LocationOf, writingTo } from './task-paths.js';
import { loadMatcherInput, runEngine, type MatcherInputDeps } from './matcher-input.js';

export interface FindMatchesDeps extends MatcherInputDeps {
  matcher: Matcher;
}

/**
 * FIND_MATCHES (a run of a `findmatches` job): trains on every stored label, groups the table's
 * rows and writes every row once with its `match_id` under `--output-path`. The output is written
 * completely before `_SUCCESS`, and nothing else changes, so an interrupted run can simply run again.
 */
export function findMatchesTask(deps: FindMatchesDeps): TaskHandler {
  return {
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const args = ctx.run.args as unknown as FindMatchesArgs;
      if (ctx.transform.status !== 'READY') {
        throw new TaskFailure(notReadyMessage(ctx.transform.id, ctx.transform.status));
      }
      const at = s3LocationOf(args.outputPath, 'Argument --output-path:');
      const override =
        args.inputDatabase !== undefined && args.inputTable !== undefined
          ? { database: args.inputDatabase, table: args.inputTable }
          : undefined;
      const input = await loadMatcherInput(deps, ctx, override);
      // Reading the table takes the first fifth of the run, matching most of the rest, writing the last tenth.
      ctx.progress(`finding matches among ${input.table.rowCount} rows of ${input.tableName}`, 0.2);
      const result = await runEngine(ctx, 'Finding matches', [0.2, 0.9], (run) =>
        deps.matcher.findMatches(input.table, input.labels, input.params, run),
      );
      ctx.progress(`writing ${args.outputFormat} output to ${args.outputPath}`, 0.9);
      const written = await writingTo(args.outputPath, () =>
        writeMatchOutput(ctx.objects, at, input.table, result, {
          format: args.outputFormat,
          confidence: args.computeMatchConfidenceScores,
          removeDuplicates: args.removeDuplicates,
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
          },
        },
      };
    },
  };
}
