import { StartMLEvaluationTaskRunCommand } from '@aws-sdk/client-glue';
import { allTaskRuns, describeRun, getTransform, latestMetrics, waitForTaskRun, type RawFindMatchesMetrics } from '../aws.js';
import { barChart, confusionMatrix, lineChart } from '../charts.js';
import { el, errorText, show } from '../dom.js';
import type { Session } from '../session.js';
import { liveTaskRuns, transformHeader } from './transform.js';

/** One evaluation's headline numbers and the labeled rows it was measured on, as its task run keeps them. */
interface Evaluation {
  taskRunId: string;
  /** Epoch seconds. */
  startedOn: number;
  labelCount: number;
  metrics: RawFindMatchesMetrics;
}

/** The transform's successful evaluations, oldest first, from their task runs (doppel's EvaluationTaskRunProperties). */
async function evaluations(session: Session, transformId: string): Promise<Evaluation[]> {
  const runs = await allTaskRuns(session, transformId, 'EVALUATION', 'SUCCEEDED');
  return runs.flatMap((r) => {
    const e = r.Properties?.EvaluationTaskRunProperties;
    return e ? [{ taskRunId: r.TaskRunId, startedOn: r.StartedOn ?? 0, labelCount: e.LabelCount, metrics: e.EvaluationMetrics.FindMatchesMetrics }] : [];
  });
}

export async function qualityView(session: Session, root: HTMLElement, transformId: string): Promise<void> {
  const transform = await getTransform(session, transformId);
  const status = el('p', { id: 'evaluation-status', role: 'status' });
  const button = el('button', { id: 'evaluate', type: 'button' }, 'Start an evaluation');
  const plots = el('div', { id: 'plots', class: 'plots' });
  const history = el('div', { id: 'evaluations' });
  const runs = el('div', { id: 'task-runs' });
  const draw = async () => {
    const [metrics, done] = await Promise.all([latestMetrics(session, transformId), evaluations(session, transformId)]);
    drawPlots(plots, metrics, done);
    drawHistory(history, done);
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const { TaskRunId } = await session.glue.send(new StartMLEvaluationTaskRunCommand({ TransformId: transformId }));
      await waitForTaskRun(session, transformId, TaskRunId!, (run) => (status.textContent = `Evaluation ${TaskRunId}: ${describeRun(run)}`));
      await draw();
    } catch (e) {
      status.textContent = errorText(e);
    }
    button.disabled = false;
  });
  show(
    root,
    transformHeader(transform, '/quality'),
    el('p', {}, button, ' ', status),
    plots,
    el('h2', {}, 'Evaluations'),
    history,
    el('h2', {}, 'Task runs'),
    runs,
  );
  await draw();
  await liveTaskRuns(session, transformId, runs);
}

const fixed = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(3));

function drawPlots(into: HTMLElement, m: RawFindMatchesMetrics | undefined, done: Evaluation[]): void {
  if (!m || m.F1 === undefined) {
    show(into, el('p', {}, 'No evaluation yet: label some sets, then start one.'));
    return;
  }
  const c = m.ConfusionMatrix ?? {};
  const curve = m.PrecisionRecallCurve;
  const operating = curve?.OperatingPoint;
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
      ).map(([name, v]) => el('tr', {}, el('th', { scope: 'row' }, name), el('td', { class: 'num' }, fixed(v)))),
      // Few audit pairs: the estimate leans on the model's own view and moves between rounds.
      ...(m.AuditPairCounts
        ? [el('tr', {}, el('th', { scope: 'row' }, 'Audit pairs counted (precision / recall)'), el('td', { class: 'num' }, `${m.AuditPairCounts.Precision} / ${m.AuditPairCounts.Recall}`))]
        : [])),
    ),
    curve && operating
      ? lineChart(
          `Precision-recall curve of the held-out labeled pairs (area ${fixed(m.AreaUnderPRCurve)}); the point marks the tradeoff's threshold, ${operating.Threshold.toFixed(3)}`,
          { x: 'recall', y: 'precision', xRange: [0, 1] },
          [
            { name: 'curve', className: 'curve', markers: false, points: curve.Points.map((p) => ({ x: p.Recall, y: p.Precision })) },
            { name: 'operating point', className: 'operating', line: false, points: [{ x: operating.Recall, y: operating.Precision }] },
          ],
          `Precision-recall curve through ${curve.Points.length} points, from recall ${curve.Points[0]!.Recall.toFixed(2)} at precision ${curve.Points[0]!.Precision.toFixed(2)} ` +
            `to recall ${curve.Points.at(-1)!.Recall.toFixed(2)} at precision ${curve.Points.at(-1)!.Precision.toFixed(2)}; ` +
            `operating point at threshold ${operating.Threshold.toFixed(3)}: precision ${operating.Precision.toFixed(2)}, recall ${operating.Recall.toFixed(2)}`,
        )
      : el('p', {}, 'No precision-recall curve: the held-out labeled pairs hold no match.'),
    confusionMatrix('Confusion matrix of the held-out labeled pairs, at the tradeoff\'s threshold', {
      truePositives: c.NumTruePositives ?? 0,
      falsePositives: c.NumFalsePositives ?? 0,
      trueNegatives: c.NumTrueNegatives ?? 0,
      falseNegatives: c.NumFalseNegatives ?? 0,
    }),
    barChart(
      'Column importances (the largest is 1)',
      (m.ColumnImportances ?? []).map((ci) => ({ label: ci.ColumnName ?? '', value: ci.Importance ?? 0 })),
    ),
    lineChart('Learning curve: every evaluation of the transform, against the labeled rows it was measured on', { x: 'labels', y: 'score' }, [
      { name: 'F1', className: 'f1', points: done.filter((e) => e.metrics.F1 !== undefined).map((e) => ({ x: e.labelCount, y: e.metrics.F1! })) },
      {
        name: 'AUPRC',
        className: 'auprc',
        points: done.filter((e) => e.metrics.AreaUnderPRCurve !== undefined).map((e) => ({ x: e.labelCount, y: e.metrics.AreaUnderPRCurve! })),
      },
    ]),
  );
}

/** The learning curve's data as a table, newest first. */
function drawHistory(into: HTMLElement, done: Evaluation[]): void {
  if (done.length === 0) {
    show(into, el('p', {}, 'None yet.'));
    return;
  }
  show(
    into,
    el(
      'table',
      { class: 'list', 'aria-label': 'Evaluations' },
      el('thead', {}, el('tr', {}, ...['Started', 'Labels', 'Precision', 'Recall', 'F1', 'AUPRC'].map((h) => el('th', { scope: 'col' }, h)))),
      el(
        'tbody',
        {},
        ...[...done].reverse().map((e) =>
          el(
            'tr',
            { 'data-task-run-id': e.taskRunId },
            el('td', {}, new Date(e.startedOn * 1000).toLocaleString()),
            el('td', { class: 'num' }, String(e.labelCount)),
            el('td', { class: 'num' }, fixed(e.metrics.Precision)),
            el('td', { class: 'num' }, fixed(e.metrics.Recall)),
            el('td', { class: 'num' }, fixed(e.metrics.F1)),
            el('td', { class: 'num' }, fixed(e.metrics.AreaUnderPRCurve)),
          ),
        ),
      ),
    ),
  );
}
