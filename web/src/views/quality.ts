import { StartMLEvaluationTaskRunCommand, type GetMLTransformResponse, type MLTransform } from '@aws-sdk/client-glue';
import { describeRun, getTransform, waitForTaskRun } from '../aws.js';
import { barChart, confusionMatrix, lineChart } from '../charts.js';
import { el, errorText, show } from '../dom.js';
import { loadLocal, saveLocal, type Session } from '../session.js';
import { liveTaskRuns, transformHeader } from './transform.js';

/** One evaluation's headline numbers, as GetMLTransform showed them. */
interface Evaluation {
  labelCount: number;
  precision: number;
  recall: number;
  f1: number;
  auprc: number;
}

const historyKey = (transformId: string) => `evaluations:${transformId}`;

/**
 * Keeps the transform's latest metrics in this browser's history of its evaluations: the Glue API
 * holds only the latest EvaluationMetrics, so the learning curve is drawn from what this browser
 * has seen. A new entry when the metrics change, with the label count of that moment: labels
 * imported since the last evaluation leave the metrics as they are, so they add no entry.
 */
export function recordEvaluation(session: Session, transform: MLTransform | GetMLTransformResponse): Evaluation[] {
  const history = loadLocal<Evaluation[]>(session, historyKey(transform.TransformId!)) ?? [];
  const m = transform.EvaluationMetrics?.FindMatchesMetrics;
  if (!m || m.F1 === undefined) return history;
  const latest: Evaluation = {
    labelCount: transform.LabelCount ?? 0,
    precision: m.Precision ?? 0,
    recall: m.Recall ?? 0,
    f1: m.F1,
    auprc: m.AreaUnderPRCurve ?? 0,
  };
  const last = history[history.length - 1];
  const metricsOf = (e: Evaluation) => JSON.stringify([e.precision, e.recall, e.f1, e.auprc]);
  if (!last || metricsOf(last) !== metricsOf(latest)) {
    history.push(latest);
    saveLocal(session, historyKey(transform.TransformId!), history);
  }
  return history;
}

export async function qualityView(session: Session, root: HTMLElement, transformId: string): Promise<void> {
  const transform = await getTransform(session, transformId);
  const status = el('p', { id: 'evaluation-status', role: 'status' });
  const button = el('button', { id: 'evaluate', type: 'button' }, 'Start an evaluation');
  const plots = el('div', { id: 'plots', class: 'plots' });
  const runs = el('div', { id: 'task-runs' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const { TaskRunId } = await session.glue.send(new StartMLEvaluationTaskRunCommand({ TransformId: transformId }));
      await waitForTaskRun(session, transformId, TaskRunId!, (run) => (status.textContent = `Evaluation ${TaskRunId}: ${describeRun(run)}`));
      drawPlots(session, plots, await getTransform(session, transformId));
    } catch (e) {
      status.textContent = errorText(e);
    }
    button.disabled = false;
  });
  show(root, transformHeader(transform, '/quality'), el('p', {}, button, ' ', status), plots, el('h2', {}, 'Task runs'), runs);
  drawPlots(session, plots, transform);
  await liveTaskRuns(session, transformId, runs);
}

function drawPlots(session: Session, into: HTMLElement, transform: GetMLTransformResponse): void {
  const history = recordEvaluation(session, transform);
  const m = transform.EvaluationMetrics?.FindMatchesMetrics;
  if (!m || m.F1 === undefined) {
    show(into, el('p', {}, 'No evaluation yet: label some sets, then start one.'));
    return;
  }
  const c = m.ConfusionMatrix ?? {};
  const latest = history[history.length - 1]!;
  show(
    into,
    el(
      'table',
      { class: 'metrics', 'aria-label': 'Latest metrics' },
      el('tbody', {}, ...(
        [
          ['Precision', m.Precision],
          ['Recall', m.Recall],
          ['F1', m.F1],
          ['Area under the PR curve', m.AreaUnderPRCurve],
        ] as const
      ).map(([name, v]) => el('tr', {}, el('th', { scope: 'row' }, name), el('td', { class: 'num' }, v === undefined ? '—' : v.toFixed(3))))),
    ),
    lineChart(
      'Precision and recall: each evaluation in this browser (the API reports one point per evaluation, at the current tradeoff, not a curve); the latest is the larger point',
      'recall',
      'precision',
      [
        { name: 'earlier', className: 'earlier', points: history.slice(0, -1).map((e) => ({ x: e.recall, y: e.precision })) },
        { name: 'latest', className: 'latest', points: [{ x: latest.recall, y: latest.precision }] },
      ],
      false,
    ),
    confusionMatrix('Confusion matrix of the held-out labeled pairs', {
      truePositives: c.NumTruePositives ?? 0,
      falsePositives: c.NumFalsePositives ?? 0,
      trueNegatives: c.NumTrueNegatives ?? 0,
      falseNegatives: c.NumFalseNegatives ?? 0,
    }),
    barChart(
      'Column importances (the largest is 1)',
      (m.ColumnImportances ?? []).map((ci) => ({ label: ci.ColumnName ?? '', value: ci.Importance ?? 0 })),
    ),
    lineChart('Learning curve: the evaluations this browser has seen, against the label count', 'labels', 'score', [
      { name: 'F1', className: 'f1', points: history.map((e) => ({ x: e.labelCount, y: e.f1 })) },
      { name: 'AUPRC', className: 'auprc', points: history.map((e) => ({ x: e.labelCount, y: e.auprc })) },
    ]),
  );
}
