import {
  CreateMLTransformCommand,
  GetDatabasesCommand,
  GetMLTransformsCommand,
  GetTablesCommand,
  UpdateMLTransformCommand,
  type MLTransform,
} from '@aws-sdk/client-glue';
import { announce, el, errorText, field, show } from '../dom.js';
import type { Session } from '../session.js';

const fmt = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(3));

/** The transforms of the signed-in account, with status, label count and latest metrics. */
export async function transformsView(session: Session, root: HTMLElement): Promise<void> {
  const answer = await session.glue.send(new GetMLTransformsCommand({}));
  const transforms = answer.Transforms ?? [];
  const rows = transforms.map((t) => {
    const m = t.EvaluationMetrics?.FindMatchesMetrics;
    return el(
      'tr',
      { 'data-transform-id': t.TransformId },
      el('th', { scope: 'row' }, el('a', { href: `#/transform/${t.TransformId}` }, t.Name ?? t.TransformId)),
      el('td', { class: `status ${t.Status}` }, t.Status),
      el('td', { class: 'num' }, String(t.LabelCount ?? 0)),
      el('td', { class: 'num' }, fmt(m?.Precision)),
      el('td', { class: 'num' }, fmt(m?.Recall)),
      el('td', { class: 'num' }, fmt(m?.F1)),
      el('td', {}, `${t.InputRecordTables?.[0]?.DatabaseName}.${t.InputRecordTables?.[0]?.TableName}`),
    );
  });
  show(
    root,
    el('h1', {}, 'Transforms'),
    transforms.length === 0
      ? el('p', { id: 'no-transforms' }, 'No transforms in this account yet.')
      : el(
          'table',
          { class: 'list', 'aria-label': 'Transforms' },
          el('thead', {}, el('tr', {}, ...['Name', 'Status', 'Labels', 'Precision', 'Recall', 'F1', 'Table'].map((h) => el('th', { scope: 'col' }, h)))),
          el('tbody', {}, ...rows),
        ),
    el('h2', {}, 'New transform'),
    await createForm(session),
  );
}

/** Create a transform from a catalog table: database, then table, then its primary key column. */
async function createForm(session: Session): Promise<HTMLElement> {
  const databases = (await session.glue.send(new GetDatabasesCommand({}))).DatabaseList ?? [];
  const name = el('input', { name: 'name', required: true, autocomplete: 'off' });
  const database = el('select', { name: 'database' }, ...databases.map((d) => el('option', { value: d.Name! }, d.Name!)));
  const table = el('select', { name: 'table' });
  const key = el('select', { name: 'primary-key' });
  const role = el('input', { name: 'role', value: 'arn:aws:iam::123456789012:role/GlueRole' });
  const message = el('p', { class: 'message', role: 'alert' });
  let columns = new Map<string, string[]>();
  const loadTables = async () => {
    const tables = database.value ? ((await session.glue.send(new GetTablesCommand({ DatabaseName: database.value }))).TableList ?? []) : [];
    columns = new Map(tables.map((t) => [t.Name!, (t.StorageDescriptor?.Columns ?? []).map((c) => c.Name!)]));
    show(table, ...tables.map((t) => el('option', { value: t.Name! }, t.Name!)));
    loadColumns();
  };
  const loadColumns = () => show(key, ...(columns.get(table.value) ?? []).map((c) => el('option', { value: c }, c)));
  database.addEventListener('change', () => void loadTables());
  table.addEventListener('change', loadColumns);
  await loadTables();
  const form = el(
    'form',
    { class: 'create', 'aria-label': 'New transform' },
    field('Name', name),
    field('Database', database),
    field('Table', table),
    field('Primary key column', key),
    field('Role', role),
    el('button', { type: 'submit' }, 'Create transform'),
    message,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const created = await session.glue.send(
        new CreateMLTransformCommand({
          Name: name.value,
          Role: role.value,
          InputRecordTables: [{ DatabaseName: database.value, TableName: table.value }],
          Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: key.value } },
        }),
      );
      announce(`created transform ${created.TransformId}`);
      location.hash = `#/transform/${created.TransformId}`;
    } catch (err) {
      message.textContent = errorText(err);
    }
  });
  return form;
}

/** The tradeoff parameters of a transform, edited with UpdateMLTransform. */
export function tradeoffForm(session: Session, transform: MLTransform): HTMLElement {
  const p = transform.Parameters?.FindMatchesParameters ?? {};
  const range = (name: string, value: number | undefined) =>
    el('input', { type: 'number', name, min: 0, max: 1, step: 0.05, value: String(value ?? 0.5) });
  const precision = range('precision-recall', p.PrecisionRecallTradeoff);
  const accuracy = range('accuracy-cost', p.AccuracyCostTradeoff);
  const enforce = el('input', { type: 'checkbox', name: 'enforce-labels', checked: p.EnforceProvidedLabels === true });
  const message = el('p', { class: 'message', role: 'status' });
  const form = el(
    'form',
    { class: 'tradeoffs', 'aria-label': 'Tradeoffs' },
    field('Precision-recall tradeoff (1 favours precision)', precision),
    field('Accuracy-cost tradeoff (1 favours accuracy)', accuracy),
    field('Enforce provided labels', enforce),
    el('button', { type: 'submit' }, 'Save tradeoffs'),
    message,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await session.glue.send(
        new UpdateMLTransformCommand({
          TransformId: transform.TransformId,
          Parameters: {
            TransformType: 'FIND_MATCHES',
            FindMatchesParameters: {
              ...p,
              PrecisionRecallTradeoff: Number(precision.value),
              AccuracyCostTradeoff: Number(accuracy.value),
              EnforceProvidedLabels: enforce.checked,
            },
          },
        }),
      );
      message.textContent = 'Saved.';
    } catch (err) {
      message.textContent = errorText(err);
    }
  });
  return form;
}
