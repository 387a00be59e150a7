import { StartImportLabelsTaskRunCommand, StartMLLabelingSetGenerationTaskRunCommand } from '@aws-sdk/client-glue';
import { describeRun, getTransform, partFiles, readText, stamp, waitForTaskRun, workspace, writeText } from '../aws.js';
import { parseCsv, stringifyCsv } from '../csv.js';
import { announce, el, errorText, field, onKeys, show } from '../dom.js';
import {
  allMatch,
  assign,
  confirm,
  differingColumns,
  groupForKey,
  groupName,
  groupNumber,
  labelFile,
  move,
  noneMatch,
  progress,
  skip,
  undo,
  workFromLabelingFile,
  type LabelingWork,
} from '../labeling-work.js';
import { loadLocal, removeLocal, saveLocal, type Session } from '../session.js';
import { transformHeader } from './transform.js';

/** Group colours in style.css (.g0 to .g11); further groups take them again, their names telling them apart. */
const GROUP_COLORS = 12;

export const workKey = (transformId: string) => `labeling:${transformId}`;

const KEYS: Array<[string, string]> = [
  ['↑ ↓', 'choose a record'],
  ['1–9', 'put it in group A–I'],
  ['Shift+A–Z', 'put it in group A–Z'],
  ['g', 'type a group name (any group: J, AA, ...)'],
  ['0', 'put it in a new group'],
  ['a', 'all match'],
  ['n', 'none match'],
  ['Enter', 'confirm and go on'],
  ['s', 'skip the set'],
  ['u', 'undo'],
  ['← →', 'previous / next set'],
];

/**
 * Labeling: generate a labeling set, then judge its sets one at a time with the keyboard; the work
 * is saved to localStorage after every change, and "Submit" writes the label file and imports it.
 */
export async function labelingView(session: Session, root: HTMLElement, transformId: string): Promise<void> {
  const transform = await getTransform(session, transformId);
  const header = transformHeader(transform, '/label');
  const body = el('section', { id: 'labeling', 'aria-label': 'Labeling' });
  show(root, header, body);
  const work = loadLocal<LabelingWork>(session, workKey(transformId));
  if (work && work.sets.length > 0) labelSets(session, body, work);
  else startScreen(session, body, transformId);
}

/** The start of a round: generate a labeling set or open one; `notice` (how the last round ended) above. */
function startScreen(session: Session, body: HTMLElement, transformId: string, notice: HTMLElement[] = []): void {
  onKeys(undefined);
  const status = el('p', { id: 'generation-status', role: 'status' });
  const button = el('button', { id: 'generate', type: 'button' }, 'Generate a labeling set');
  /** Reads a labeling file (or the first part file under a folder path) and starts labeling it. */
  const open = async (path: string) => {
    const [file] = path.endsWith('/') ? await partFiles(session, path) : [path];
    if (!file) throw new Error(`no labeling file under ${path}`);
    const transform = await getTransform(session, transformId);
    const primaryKey = transform.Parameters?.FindMatchesParameters?.PrimaryKeyColumnName ?? '';
    const work = workFromLabelingFile(transformId, primaryKey, file, parseCsv(await readText(session, file)));
    if (work.sets.length === 0) throw new Error(`${file} holds no labeling set`);
    // The import would refuse it after all the labeling: a file made for another table.
    const schema = (transform.Schema ?? []).map((c) => c.Name ?? '');
    const foreign = work.columns.filter((c) => !schema.includes(c));
    const twice = work.columns.filter((c, i) => work.columns.indexOf(c) !== i);
    if (foreign.length > 0 || twice.length > 0 || !work.columns.includes(primaryKey)) {
      throw new Error(
        `${file} is not a labeling file of this transform's table: ` +
          (foreign.length > 0
            ? `its columns ${foreign.join(', ')} are not in the table (${schema.join(', ')})`
            : twice.length > 0
              ? `its column ${twice[0]} appears twice`
              : `it has no ${primaryKey} column`),
      );
    }
    saveLocal(session, workKey(transformId), work);
    labelSets(session, body, work);
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const transform = await getTransform(session, transformId);
      const output = `${await workspace(session, transform)}labeling/${stamp()}/`;
      const { TaskRunId } = await session.glue.send(new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: output }));
      await waitForTaskRun(session, transformId, TaskRunId!, (run) => (status.textContent = `Labeling set generation ${TaskRunId}: ${describeRun(run)}`));
      await open(output);
    } catch (e) {
      status.textContent = errorText(e);
      button.disabled = false;
    }
  });
  // A labeling file made elsewhere (a generation run started from the CLI or an SDK): labeled here the same way.
  const path = el('input', { id: 'labeling-file', name: 'labeling-file', placeholder: 's3://bucket/labeling/part-00000.csv', size: 48, required: true });
  const openStatus = el('span', { id: 'open-status', class: 'message', role: 'alert' });
  const openForm = el(
    'form',
    { class: 'open-labeling-file', 'aria-label': 'Open a labeling file' },
    field('Labeling file or folder (s3://...)', path),
    el('p', {}, el('button', { type: 'submit' }, 'Open'), ' ', openStatus),
  );
  openForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    openStatus.textContent = '';
    try {
      await open(path.value.trim());
    } catch (err) {
      openStatus.textContent = errorText(err);
    }
  });
  show(
    body,
    ...notice,
    el('p', {}, 'doppel picks the records it is least sure about and proposes a grouping; you confirm or correct it.'),
    button,
    status,
    el('h2', {}, 'Or open a labeling file'),
    openForm,
  );
  button.focus();
}

function labelSets(session: Session, body: HTMLElement, work: LabelingWork): void {
  let focusRow = 0;
  /** Whether the "group name" box (key g) is open for the chosen record. */
  let naming = false;
  /** While the labels are being imported the work is what was written: keys change nothing. */
  let submitting = false;
  const submitWork = async () => {
    submitting = true;
    try {
      await submitLabels(session, body, work);
    } finally {
      submitting = false;
    }
  };
  const save = () => saveLocal(session, workKey(work.transformId), work);
  const put = (group: number) => {
    const set = work.sets[work.current]!;
    assign(work, focusRow, group);
    focusRow = Math.min(focusRow + 1, set.rows.length - 1);
  };
  /** The box key g opens: a group name typed for the chosen record, Enter puts it there, Escape closes it. */
  const groupNameForm = () => {
    const input = el('input', { id: 'group-name', size: 6, autocomplete: 'off', 'aria-describedby': 'group-name-error' });
    const error = el('span', { id: 'group-name-error', class: 'message' });
    const form = el('form', { class: 'group-name', 'aria-label': 'Group name' }, field(`Group for record ${focusRow + 1} (A, B, ..., AA)`, input), error);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const group = groupNumber(input.value);
      if (group === undefined) {
        error.textContent = `"${input.value}" is not a group name: letters, such as J or AB`;
        return;
      }
      naming = false;
      put(group);
      save();
      draw();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      naming = false;
      draw();
    });
    return form;
  };
  const finishedAll = () => {
    const done = progress(work);
    return done.labeled + done.skipped === done.total;
  };
  /** Redraws the set; `toSubmit`: the key just pressed finished the work, so Submit takes the focus. */
  const draw = (toSubmit = false) => {
    const set = work.sets[work.current]!;
    focusRow = Math.min(focusRow, set.rows.length - 1);
    const differs = differingColumns(set);
    const key = work.columns.indexOf(work.primaryKey);
    const done = progress(work);
    const suggestion = set.state === 'suggested';
    const submit = el('button', { id: 'submit-labels', type: 'button', disabled: done.labeled === 0 }, `Submit ${done.labeled} labeled sets`);
    submit.addEventListener('click', () => void submitWork());
    const discard = el('button', { id: 'discard-labels', type: 'button' }, 'Discard this work');
    discard.addEventListener('click', () => {
      const from = work.source === 'review' ? 'the review' : work.source;
      if (!window.confirm(`Discard the labels of all ${done.total} sets from ${from}? None of them has been imported.`)) return;
      removeLocal(session, workKey(work.transformId));
      startScreen(session, body, work.transformId);
    });
    const rows = set.rows.map((r, i) =>
      el(
        'tr',
        { 'data-row': i, 'data-key': r[key], class: i === focusRow ? 'focused' : '', 'aria-current': i === focusRow ? 'true' : undefined },
        el('td', { class: `group g${set.groups[i]! % GROUP_COLORS}${suggestion ? ' suggested' : ''}` }, groupName(set.groups[i]!)),
        ...r.map((v, c) => el('td', { class: differs[c] && v !== set.rows[0]![c] ? 'differs' : differs[c] ? 'varies' : '' }, v)),
      ),
    );
    show(
      body,
      el(
        'div',
        { class: 'progress' },
        el('progress', { max: done.total, value: done.labeled + done.skipped, 'aria-label': 'Sets decided' }),
        el('span', { id: 'labeling-progress' }, `Set ${work.current + 1} of ${done.total} · ${done.labeled} labeled · ${done.skipped} skipped`),
      ),
      el(
        'h2',
        {},
        `Labeling set ${set.id} `,
        el('span', { id: 'set-state', class: `badge ${set.state}` }, suggestion ? 'suggested grouping: Enter confirms' : set.state),
      ),
      el(
        'table',
        { class: 'records', 'aria-label': `Records of labeling set ${set.id}` },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Group'), ...work.columns.map((c) => el('th', { scope: 'col' }, c)))),
        el('tbody', {}, ...rows),
      ),
      naming ? groupNameForm() : null,
      el('p', { class: 'source' }, `From ${work.source === 'review' ? 'groups marked wrong in the review' : work.source}`),
      el('dl', { class: 'keys', 'aria-label': 'Keyboard shortcuts' }, ...KEYS.flatMap(([k, what]) => [el('dt', {}, el('kbd', {}, k)), el('dd', {}, what)])),
      el('p', {}, submit, ' ', discard, ' ', el('span', { id: 'submit-status', role: 'status' })),
    );
    if (naming) body.querySelector<HTMLInputElement>('#group-name')!.focus();
    else if (toSubmit) submit.focus();
  };
  onKeys((e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || submitting) return;
    const set = work.sets[work.current]!;
    const before = work.current;
    const onLast = before === work.sets.length - 1;
    const group = groupForKey(e.key, set.groups);
    let rowAfter: number | undefined;
    if (group !== undefined) put(group);
    else if (e.key === 'g') naming = true;
    else if (e.key === 'ArrowDown' || e.key === 'j') focusRow = Math.min(focusRow + 1, set.rows.length - 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') focusRow = Math.max(focusRow - 1, 0);
    else if (e.key === 'a') allMatch(work);
    else if (e.key === 'n') noneMatch(work);
    else if (e.key === 'Enter') confirm(work);
    else if (e.key === 's') skip(work);
    else if (e.key === 'u') {
      const undone = undo(work);
      if (!undone) announce('nothing to undo');
      else rowAfter = undone.row;
    } else if (e.key === 'ArrowRight') move(work, 1);
    else if (e.key === 'ArrowLeft') move(work, -1);
    else return;
    e.preventDefault();
    if (work.current !== before) {
      focusRow = 0;
      announce(`labeling set ${work.current + 1} of ${work.sets.length}`);
    }
    if (rowAfter !== undefined) focusRow = rowAfter;
    save();
    // Submit takes the focus when Enter or s decides the last set with every other one decided: not
    // when a key only changes it, nor on an earlier set revisited (Enter there goes on to the next).
    draw((e.key === 'Enter' || e.key === 's') && onLast && finishedAll());
  });
  // Opened with every set decided (a reload before submitting): nothing is being edited.
  draw(finishedAll());
}

async function submitLabels(session: Session, body: HTMLElement, work: LabelingWork): Promise<void> {
  const status = body.querySelector<HTMLElement>('#submit-status')!;
  const button = body.querySelector<HTMLButtonElement>('#submit-labels')!;
  button.disabled = true;
  try {
    const transform = await getTransform(session, work.transformId);
    const path = `${await workspace(session, transform)}labels/${stamp()}.csv`;
    status.textContent = `writing ${path}`;
    await writeText(session, path, stringifyCsv(labelFile(work)), 'text/csv');
    const { TaskRunId } = await session.glue.send(new StartImportLabelsTaskRunCommand({ TransformId: work.transformId, InputS3Path: path }));
    await waitForTaskRun(session, work.transformId, TaskRunId!, (run) => (status.textContent = `Importing labels (${TaskRunId}): ${describeRun(run)}`));
    removeLocal(session, workKey(work.transformId));
    const after = await getTransform(session, work.transformId);
    document.querySelector('#transform-status')!.textContent = after.Status ?? '';
    document.querySelector('#label-count')!.textContent = `${after.LabelCount ?? 0} labels`;
    startScreen(session, body, work.transformId, [
      el('p', { id: 'import-done', role: 'status' }, `Labels imported from ${path}. The transform is ${after.Status} with ${after.LabelCount} labels.`),
      el('p', {}, el('a', { href: `#/transform/${work.transformId}/quality` }, 'Evaluate it'), ' or label another set:'),
    ]);
    announce(`transform ${after.Status}`);
  } catch (e) {
    status.textContent = errorText(e);
    button.disabled = false;
  }
}
