import type { Matcher, PairExplanation } from '../../engine/api.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { loadMatcherInput, runEngine, type MatcherInputDeps } from './matcher-input.js';

export interface ExplainMatchesDeps extends MatcherInputDeps {
  matcher: Matcher;
}

/** The record pairs an EXPLAIN_MATCHES run explains, by primary key (the run's args). */
export interface ExplainMatchesArgs {
  pairs: Array<{ left: string; right: string }>;
}

/** A pair's explanation on the wire (doppel's ExplainMatches, see README "doppel extensions"). */
export function explanationToWire(pair: { left: string; right: string }, e: PairExplanation): Record<string, unknown> {
  return {
    Left: pair.left,
    Right: pair.right,
    LogOdds: e.logOdds,
    Probability: e.probability,
    Bias: e.bias,
    Columns: e.columns.map((c) => ({ ColumnName: c.column, Contribution: c.contribution })),
    Features: e.features.map((f) => ({ ColumnName: f.column, Feature: f.feature, Value: f.value, Contribution: f.contribution })),
  };
}

/**
 * EXPLAIN_MATCHES (doppel's ExplainMatches operation): the model find-matches would use (trained
 * on every stored label) explains each pair of records of the transform's table; the
 * explanations are the run's ExplainMatchesTaskRunProperties, which the operation answers with.
 */
export function explainMatchesTask(deps: ExplainMatchesDeps): TaskHandler {
  return {
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const { pairs } = ctx.run.args as unknown as ExplainMatchesArgs;
      const input = await loadMatcherInput(deps, ctx);
      const pk = input.table.columns[input.table.primaryKey]!;
      const wanted = new Set(pairs.flatMap((p) => [p.left, p.right]));
      const rowOf = new Map<string, number>();
      for (let r = 0; r < input.table.rowCount; r++) {
        const key = pk.values[pk.codes[r]!]!;
        if (wanted.has(key)) rowOf.set(key, r);
      }
      const rows = pairs.map((p, i) =>
        (['left', 'right'] as const).map((side) => {
          const row = rowOf.get(p[side]);
          if (row === undefined) {
            const member = side === 'left' ? 'Left' : 'Right';
            throw new TaskFailure(`RecordPairs[${i}].${member}: no record with ${input.primaryKey} = ${p[side]} in table ${input.tableName}.`);
          }
          return row;
        }) as [number, number],
      );
      ctx.progress(`explaining ${pairs.length} record pairs`, 0.2);
      const explained = await runEngine(ctx, 'Explaining matches', [0.2, 1], (run) =>
        deps.matcher.explainPairs(input.table, rows, input.labels, input.params, run),
      );
      return { properties: { ExplainMatchesTaskRunProperties: { Explanations: explained.map((e, i) => explanationToWire(pairs[i]!, e)) } } };
    },
  };
}
