import { stringify } from 'csv-stringify/sync';
import type { Matcher } from '../../engine/api.js';
import { valueAt } from '../../engine/index.js';
import { LABEL_COLUMNS } from '../../transforms/labels/label-file.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { s3LocationOf, writeCsvOutput } from './task-paths.js';
import { transformColumns } from './transform-columns.js';
import { loadMatcherInput, runEngine, type MatcherInputDeps } from './matcher-input.js';

export interface LabelingSetDeps extends MatcherInputDeps {
  matcher: Matcher;
  /** About this many labeling sets of about `targetRows` rows in all (spec §5.2: ~10 sets, ~100 rows). */
  sets?: number;
  targetRows?: number;
}

/**
 * LABELING_SET_GENERATION: asks the matcher for labeling sets and writes them as one CSV part
 * (`labeling_set_id,label,<schema columns>`, label pre-filled with the suggestion) under
 * OutputS3Path, then `_SUCCESS`. Nothing is stored, so an interrupted run can run again.
 */
export function labelingSetTask(deps: LabelingSetDeps): TaskHandler {
  return {
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const props = ctx.run.properties['LabelingSetGenerationTaskRunProperties'] as { OutputS3Path: string };
      const at = s3LocationOf(props.OutputS3Path, 'Invalid output path.');
      const input = await loadMatcherInput(deps, ctx);
      // Its files hold headers only (an empty file is "no data" already): a set needs records to compare.
      if (input.table.rowCount < 2) {
        throw new TaskFailure(`Table ${input.tableName} has ${input.table.rowCount === 0 ? 'no records' : 'one record'}: a labeling set needs at least two.`);
      }
      ctx.progress(`choosing labeling sets among ${input.table.rowCount} rows`, 0.2);
      const sets = await runEngine(ctx, 'Labeling set generation', [0.2, 0.95], (run) =>
        deps.matcher.generateLabelingSets(input.table, input.labels, input.params, {
          sets: deps.sets ?? 10,
          targetRows: deps.targetRows ?? 100,
          ...run,
        }),
      );
      ctx.progress(`writing labeling sets to ${props.OutputS3Path}`, 0.95);
      const schema = transformColumns(ctx.transform).columns;
      const index = new Map(input.table.columns.map((c, i) => [c.name.toLowerCase(), i]));
      const records: string[][] = [[...LABEL_COLUMNS, ...schema]];
      let rowCount = 0;
      for (const set of sets) {
        for (const { row, suggestedLabel } of set.rows) {
          records.push([
            set.labelingSetId,
            suggestedLabel,
            ...schema.map((name) => {
              const c = index.get(name.toLowerCase());
              return c === undefined ? '' : (valueAt(input.table, c, row) ?? '');
            }),
          ]);
          rowCount++;
        }
      }
      await writeCsvOutput(ctx.objects, props.OutputS3Path, at, stringify(records));
      return {
        properties: {
          LabelingSetGenerationTaskRunProperties: { ...props, LabelingSetCount: sets.length, LabeledRowCount: rowCount },
        },
      };
    },
  };
}
