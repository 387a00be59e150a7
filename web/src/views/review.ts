import { CreateJobCommand, GetJobCommand, GetJobRunCommand, StartJobRunCommand, type GetMLTransformResponse } from '@aws-sdk/client-glue';
import { describeRun, getTransform, latestTaskRuns, partFiles, stamp, streamCsv, workspace } from '../aws.js';
import { el, errorText, field, show, sleep } from '../dom.js';
import type { LabelingWork } from '../labeling-work.js';
import { loadLocal, saveLocal, type Session } from '../session.js';
import { workKey } from './labeling.js';
import { transformHeader } from './transform.js';

/** The columns find-matches adds to the table's. */
const OUTPUT_COLUMNS = new Set(['match_id', 'match_confidence_score', 'match_explanation']);

interface Explanation {
  partner: string;
  log_odds: number;
  bias: number;
  columns: Record<string, number>;
}

/** A group as the output holds it: its records' full rows, split into the table's columns and find-matches' when the group is opened. */
interface MatchGroup {
  matchId: string;
  confidence: number;
  rows: string[][];
}

/** Where an output's columns are: the table's, and find-matches' own. */
interface OutputColumns {
  /** The table's column names. */
  names: string[];
  /** Index in an output row of each of the table's columns. */
  table: number[];
  explanation: number;
}

/** Groups listed per page: the list stays a few dozen buttons whatever the output's size. */
const PAGE_SIZE = 50;

const outputKey = (transformId: string) => `matches:${transformId}`;
const jobName = (transformId: string) => `doppel-ui-${transformId}`;

/**
 * Review: run find-matches (a findmatches job with explanations and confidence scores), then browse
 * its groups, largest and least confident first, each record with its explanation; a wrong group
 * becomes a labeling set.
 */
export async function reviewView(session: Session, root: HTMLElement, transformId: string): Promise<void> {
  const transform = await getTransform(session, transformId);
  const status = el('p', { id: 'job-status', role: 'status' });
  const button = el('button', { id: 'find-matches', type: 'button' }, 'Run find-matches');
  const results = el('div', { id: 'matches' });
  const load = async (output: string) => {
    saveLocal(session, outputKey(transformId), output);
    path.value = output;
    await showGroups(session, results, transform, output);
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await load(await runFindMatches(session, transformId, (state) => (status.textContent = `Find-matches job run: ${state}`)));
    } catch (e) {
      status.textContent = errorText(e);
    }
    button.disabled = false;
  });
  // Any find-matches output in CSV (a job run started elsewhere), reviewed the same way.
  const path = el('input', { id: 'output-path', name: 'output-path', placeholder: 's3://bucket/matches/', size: 48, required: true });
  const form = el(
    'form',
    { class: 'open-output', 'aria-label': 'Open a find-matches output' },
    field('Find-matches output folder (s3://...)', path),
    el('p', {}, el('button', { type: 'submit' }, 'Open')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await load(path.value.trim().replace(/\/?$/, '/'));
    } catch (err) {
      status.textContent = errorText(err);
    }
  });
  show(root, transformHeader(transform, '/review'), el('p', {}, button, ' ', status), form, results);
  const previous = loadLocal<string>(session, outputKey(transformId));
  if (previous) await load(previous).catch((e) => (status.textContent = errorText(e)));
}

async function runFindMatches(session: Session, transformId: string, onState: (state: string) => void): Promise<string> {
  const transform = await getTransform(session, transformId);
  const output = `${await workspace(session, transform)}matches/${stamp()}/`;
  const name = jobName(transformId);
  try {
    await session.glue.send(new GetJobCommand({ JobName: name }));
  } catch (e) {
    if ((e as Error).name !== 'EntityNotFoundException') throw e;
    await session.glue.send(
      new CreateJobCommand({ Name: name, Role: transform.Role!, Command: { Name: 'findmatches' }, DefaultArguments: { '--transform-id': transformId } }),
    );
  }
  const { JobRunId } = await session.glue.send(
    new StartJobRunCommand({
      JobName: name,
      Arguments: { '--output-path': output, '--explain': 'true', '--compute-match-confidence-scores': 'true' },
    }),
  );
  for (;;) {
    const run = (await session.glue.send(new GetJobRunCommand({ JobName: name, RunId: JobRunId! }))).JobRun!;
    // The job run's progress is its FIND_MATCHES task run's (a doppel extension).
    const task = (await latestTaskRuns(session, transformId, 5, 'FIND_MATCHES')).find((t) => t.Properties?.FindMatchesTaskRunProperties?.JobRunId === JobRunId);
    onState(task && run.JobRunState === 'RUNNING' ? describeRun(task) : `${run.JobRunState}${run.ErrorMessage ? `: ${run.ErrorMessage}` : ''}`);
    if (run.JobRunState === 'SUCCEEDED') return output;
    if (['FAILED', 'STOPPED', 'TIMEOUT', 'ERROR'].includes(run.JobRunState ?? '')) throw new Error(`job run ${JobRunId} ${run.JobRunState}: ${run.ErrorMessage ?? ''}`);
    await sleep(1000);
  }
}

/**
 * The output's groups of two or more records, largest first, then least confident first. The part
 * files are streamed and parsed a chunk at a time (streamCsv), `onProgress` told the records read.
 */
async function readGroups(session: Session, output: string, onProgress: (records: number) => void): Promise<{ columns: OutputColumns; groups: MatchGroup[] }> {
  let header: string[] | undefined;
  let idColumn = -1;
  const files = await partFiles(session, output);
  if (files.length === 0) throw new Error(`no part files under ${output}`);
  const byId = new Map<string, string[][]>();
  let records = 0;
  for (const file of files) {
    if (!file.endsWith('.csv')) throw new Error(`${file}: the review reads CSV output only`);
    let first = true;
    await streamCsv(session, file, (rows) => {
      for (const r of rows) {
        // Each part file starts with the header line.
        if (first) {
          header ??= r;
          idColumn = header.indexOf('match_id');
          if (idColumn < 0) throw new Error(`${file} is not a find-matches output: no match_id column`);
          first = false;
          continue;
        }
        const id = r[idColumn]!;
        const group = byId.get(id);
        if (group) group.push(r);
        else byId.set(id, [r]);
        records++;
      }
      onProgress(records);
    });
  }
  const columns = header ?? [];
  const confidence = columns.indexOf('match_confidence_score');
  const groups: MatchGroup[] = [];
  for (const [matchId, rows] of byId) {
    if (rows.length < 2) continue;
    groups.push({ matchId, confidence: confidence >= 0 ? Number(rows[0]![confidence]) : 1, rows });
  }
  groups.sort((a, b) => b.rows.length - a.rows.length || a.confidence - b.confidence);
  const table = columns.flatMap((c, i) => (OUTPUT_COLUMNS.has(c) ? [] : [i]));
  return { columns: { names: table.map((i) => columns[i]!), table, explanation: columns.indexOf('match_explanation') }, groups };
}

async function showGroups(session: Session, into: HTMLElement, transform: GetMLTransformResponse, output: string): Promise<void> {
  const reading = el('p', { id: 'reading', role: 'status' }, `Reading ${output}`);
  show(into, reading);
  const started = performance.now();
  const { columns, groups } = await readGroups(session, output, (n) => (reading.textContent = `Reading ${output}: ${n.toLocaleString('en')} records`));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const detail = el('div', { id: 'group-detail' });
  const list = el('ol', { class: 'groups', 'aria-label': 'Match groups' });
  const pageStatus = el('span', { id: 'group-page', 'aria-live': 'polite' });
  const previous = el('button', { type: 'button', id: 'previous-groups' }, 'Previous groups');
  const next = el('button', { type: 'button', id: 'next-groups' }, 'Next groups');
  const pages = Math.max(1, Math.ceil(groups.length / PAGE_SIZE));
  let page = 0;
  const drawPage = () => {
    const first = page * PAGE_SIZE;
    const shown = groups.slice(first, first + PAGE_SIZE);
    show(
      list,
      ...shown.map((g, i) => {
        const open = el('button', { type: 'button', 'data-match-id': g.matchId }, `${first + i + 1}. Group ${g.matchId}: ${g.rows.length} records, confidence ${g.confidence.toFixed(2)}`);
        open.addEventListener('click', () => showGroup(session, detail, transform, columns, g));
        return el('li', {}, open);
      }),
    );
    list.setAttribute('start', String(first + 1));
    pageStatus.textContent = groups.length === 0 ? 'no groups' : `groups ${first + 1}–${first + shown.length} of ${groups.length.toLocaleString('en')} (page ${page + 1} of ${pages})`;
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
  };
  const turn = (step: number) => {
    page = Math.min(pages - 1, Math.max(0, page + step));
    drawPage();
    list.querySelector<HTMLElement>('button')?.focus();
  };
  previous.addEventListener('click', () => turn(-1));
  next.addEventListener('click', () => turn(1));
  drawPage();
  show(
    into,
    el('p', { id: 'groups-summary' }, `${groups.length.toLocaleString('en')} groups of two or more records in ${output} (read in ${seconds} s)`),
    el('div', { class: 'review' }, el('div', {}, el('p', { class: 'pager' }, previous, ' ', next, ' ', pageStatus), list), detail),
  );
}

function showGroup(session: Session, into: HTMLElement, transform: GetMLTransformResponse, columns: OutputColumns, group: MatchGroup): void {
  const transformId = transform.TransformId!;
  const records = group.rows.map((r) => columns.table.map((i) => r[i]!));
  const wrong = el('button', { id: 'mark-wrong', type: 'button' }, 'Mark this group wrong: label it');
  wrong.addEventListener('click', () => {
    addReviewSet(session, transform, columns.names, group.matchId, records);
    location.hash = `#/transform/${transformId}/label`;
  });
  show(
    into,
    el('h2', { tabindex: -1 }, `Group ${group.matchId}`),
    el(
      'table',
      { class: 'records', 'aria-label': `Records of group ${group.matchId}` },
      el('thead', {}, el('tr', {}, ...columns.names.map((c) => el('th', { scope: 'col' }, c)), el('th', { scope: 'col' }, 'Why it is in the group'))),
      el(
        'tbody',
        {},
        ...records.map((r, i) =>
          el('tr', {}, ...r.map((v) => el('td', {}, v)), el('td', { class: 'explanation' }, explanationView(columns.explanation >= 0 ? group.rows[i]![columns.explanation]! : ''))),
        ),
      ),
    ),
    wrong,
  );
  into.querySelector<HTMLElement>('h2')!.focus();
}

/** Per-column contributions to the log-odds of the record's link to its partner, as signed bars. */
function explanationView(text: string): HTMLElement {
  if (!text) return el('span', {}, '—');
  const e = JSON.parse(text) as Explanation;
  const entries = Object.entries(e.columns).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  const scale = Math.max(1, ...entries.map(([, v]) => Math.abs(v)));
  return el(
    'div',
    {},
    el('div', {}, `with ${e.partner}: log-odds ${e.log_odds.toFixed(2)} (bias ${e.bias.toFixed(2)})`),
    el(
      'ul',
      { class: 'contributions' },
      ...entries.map(([column, v]) =>
        el(
          'li',
          {},
          el('span', { class: 'column' }, column),
          el('span', { class: `contribution ${v >= 0 ? 'for' : 'against'}`, style: `width:${((60 * Math.abs(v)) / scale).toFixed(1)}px` }),
          el('span', {}, (v >= 0 ? '+' : '') + v.toFixed(2)),
        ),
      ),
    ),
  );
}

/** "Reformat incorrect results as a labeling set": the group joins the labeling work, all in one group, as a suggestion to correct. */
function addReviewSet(session: Session, transform: GetMLTransformResponse, columns: string[], matchId: string, records: string[][]): void {
  const transformId = transform.TransformId!;
  const work: LabelingWork = loadLocal<LabelingWork>(session, workKey(transformId)) ?? {
    transformId,
    source: 'review',
    columns,
    primaryKey: transform.Parameters?.FindMatchesParameters?.PrimaryKeyColumnName ?? '',
    sets: [],
    current: 0,
    undo: [],
  };
  const zero = records.map(() => 0);
  work.sets.push({ id: `review-${matchId}-${stamp()}`, rows: records, suggested: zero, groups: [...zero], state: 'suggested' });
  work.current = work.sets.length - 1;
  saveLocal(session, workKey(transformId), work);
}
