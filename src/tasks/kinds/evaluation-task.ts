import type { EvaluationResult, Matcher } from '../../engine/api.js';
import type { PRPoint } from '../../engine/metrics.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { loadMatcherInput, runEngine, type MatcherInputDeps } from './matcher-input.js';

export interface EvaluationDeps extends MatcherInputDeps {
  matcher: Matcher;
}

/** A GenericBoundedDouble: a finite number within [0, 1], or nothing. */
function bounded(v: number | undefined): number | undefined {
  if (v === undefined || !Number.isFinite(v)) return undefined;
  return Math.min(1, Math.max(0, v));
}

const count = (v: number) => (Number.isFinite(v) && v > 0 ? Math.round(v) : 0);

/**
 * The engine's evaluation as Glue's EvaluationMetrics (undefined metrics omitted, doubles in [0, 1]),
 * plus doppel's `BlockingRecall` when the engine measured it and `AuditPairCounts` when audit labels
 * exist.
 */
export function toEvaluationMetrics(r: EvaluationResult): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  const put = (k: string, v: number | undefined) => {
    const b = bounded(v);
    if (b !== undefined) metrics[k] = b;
  };
  put('AreaUnderPRCurve', r.areaUnderPRCurve);
  put('Precision', r.precision);
  put('Recall', r.recall);
  put('F1', r.f1);
  metrics['ConfusionMatrix'] = {
    NumTruePositives: count(r.confusionMatrix.numTruePositives),
    NumFalsePositives: count(r.confusionMatrix.numFalsePositives),
    NumTrueNegatives: count(r.confusionMatrix.numTrueNegatives),
    NumFalseNegatives: count(r.confusionMatrix.numFalseNegatives),
  };
  metrics['ColumnImportances'] = r.columnImportances
    .map((c) => ({ ColumnName: c.columnName, Importance: bounded(c.importance) ?? 0 }))
    .sort((a, b) => b.Importance - a.Importance)
    .slice(0, 100);
  // doppel's own members (SDKs ignore them): the share of matching pairs blocking finds (engine
  // estimate.ts: on the audit sets' matches), how many audit pairs the estimates were counted on,
  // and the curve AreaUnderPRCurve is the area under.
  put('BlockingRecall', r.blockingRecall);
  if (r.auditPairs) {
    metrics['AuditPairCounts'] = {
      Precision: count(r.auditPairs.precision),
      Recall: count(r.auditPairs.recall),
      BlockingRecall: count(r.auditPairs.blockingRecall),
    };
  }
  if (r.precisionRecallCurve) {
    metrics['PrecisionRecallCurve'] = {
      Points: r.precisionRecallCurve.points.map(toWirePoint),
      OperatingPoint: toWirePoint(r.precisionRecallCurve.operatingPoint),
    };
  }
  return { TransformType: 'FIND_MATCHES', FindMatchesMetrics: metrics };
}

function toWirePoint(p: PRPoint): Record<string, number> {
  return { Threshold: bounded(p.threshold) ?? 0, Precision: bounded(p.precision) ?? 0, Recall: bounded(p.recall) ?? 0 };
}

/**
 * EVALUATION: cross-validates the matcher on the stored labels and stores the metrics on the
 * transform in the same transaction as SUCCEEDED. The run keeps them too, with the labeled rows
 * they were measured on (doppel's EvaluationTaskRunProperties): the transform holds only the
 * latest metrics, the runs hold the learning curve.
 */
export function evaluationTask(deps: EvaluationDeps): TaskHandler {
  return {
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const input = await loadMatcherInput(deps, ctx);
      if (input.labels.length === 0) {
        throw new TaskFailure(`Transform ${ctx.transform.id} has no labels to evaluate against: import labels first.`);
      }
      ctx.progress(`evaluating on ${input.labels.length} labeled rows`, 0.2);
      const result = await runEngine(ctx, 'Evaluation', [0.2, 1], (run) =>
        deps.matcher.evaluate(input.table, input.labels, input.params, run),
      );
      const evaluationMetrics = toEvaluationMetrics(result);
      return {
        transformPatch: { evaluationMetrics },
        properties: { EvaluationTaskRunProperties: { LabelCount: input.labels.length, EvaluationMetrics: evaluationMetrics } },
      };
    },
  };
}
