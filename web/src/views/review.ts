import { CreateJobCommand, GetJobCommand, GetJobRunCommand, StartJobRunCommand, type GetMLTransformResponse } from '@aws-sdk/client-glue';
import { describeRun, getTransform, latestTaskRuns, partFiles, readText, stamp, workspace } from '../aws.js';
import { parseCsv } from '../csv.js';
import { el, errorText, show, sleep } from '../dom.js';
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

interface MatchGroup {
  matchId: string;
  confidence: number;
  rows: string[][];
  explanations: Array<Explanation | undefined>;
}

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
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const output = await runFindMatches(session, transformId, (state) => (status.textContent = `Find-matches job run: ${state}`));
      saveLocal(session, outputKey(transformId), output);
      await showGroups(session, results, transform, output);
    } catch (e) {
      status.textContent = errorText(e);
    }
    button.disabled = false;
  });
  show(root, transformHeader(transform, '/review'), el('p', {}, button, ' ', status), results);
  const previous = loadLocal<string>(session, outputKey(transformId));
  if (previous) await showGroups(session, results, transform, previous).catch((e) => (status.textContent = errorText(e)));
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

/** The output's groups of two or more records, largest first, then least confident first. */
async function readGroups(session: Session, output: string): Promise<{ columns: string[]; groups: MatchGroup[] }> {
  let header: string[] = [];
  const byId = new Map<string, string[][]>();
  for (const file of await partFiles(session, output)) {
    const [h, ...rows] = parseCsv(await readText(session, file));
    header = h ?? header;
    const id = header.indexOf('match_id');
    for (const r of rows) byId.set(r[id]!, [...(byId.get(r[id]!) ?? []), r]);
  }
  const keep = header.map((c) => !OUTPUT_COLUMNS.has(c));
  const confidence = header.indexOf('match_confidence_score');
  const explanation = header.indexOf('match_explanation');
  const groups = [...byId]
    .filter(([, rows]) => rows.length > 1)
    .map(([matchId, rows]) => ({
      matchId,
      confidence: confidence >= 0 ? Number(rows[0]![confidence]) : 1,
      rows: rows.map((r) => r.filter((_, i) => keep[i])),
      explanations: rows.map((r) => (explanation >= 0 && r[explanation] ? (JSON.parse(r[explanation]!) as Explanation) : undefined)),
    }))
    .sort((a, b) => b.rows.length - a.rows.length || a.confidence - b.confidence);
  return { columns: header.filter((_, i) => keep[i]), groups };
}

async function showGroups(session: Session, into: HTMLElement, transform: GetMLTransformResponse, output: string): Promise<void> {
  const { columns, groups } = await readGroups(session, output);
  const detail = el('div', { id: 'group-detail' });
  const list = el(
    'ol',
    { class: 'groups', 'aria-label': 'Match groups' },
    ...groups.slice(0, 200).map((g) => {
      const open = el('button', { type: 'button', 'data-match-id': g.matchId }, `Group ${g.matchId}: ${g.rows.length} records, confidence ${g.confidence.toFixed(2)}`);
      open.addEventListener('click', () => showGroup(session, detail, transform, columns, g));
      return el('li', {}, open);
    }),
  );
  show(
    into,
    el('p', {}, `${groups.length} groups of two or more records in ${output}`),
    el('div', { class: 'review' }, list, detail),
  );
}

function showGroup(session: Session, into: HTMLElement, transform: GetMLTransformResponse, columns: string[], group: MatchGroup): void {
  const transformId = transform.TransformId!;
  const wrong = el('button', { id: 'mark-wrong', type: 'button' }, 'Mark this group wrong: label it');
  wrong.addEventListener('click', () => {
    addReviewSet(session, transform, columns, group);
    location.hash = `#/transform/${transformId}/label`;
  });
  show(
    into,
    el('h2', { tabindex: -1 }, `Group ${group.matchId}`),
    el(
      'table',
      { class: 'records', 'aria-label': `Records of group ${group.matchId}` },
      el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { scope: 'col' }, c)), el('th', { scope: 'col' }, 'Why it is in the group'))),
      el(
        'tbody',
        {},
        ...group.rows.map((r, i) => el('tr', {}, ...r.map((v) => el('td', {}, v)), el('td', { class: 'explanation' }, explanationView(group.explanations[i])))),
      ),
    ),
    wrong,
  );
  into.querySelector<HTMLElement>('h2')!.focus();
}

/** Per-column contributions to the log-odds of the record's link to its partner, as signed bars. */
function explanationView(e: Explanation | undefined): HTMLElement {
  if (!e) return el('span', {}, '—');
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
function addReviewSet(session: Session, transform: GetMLTransformResponse, columns: string[], group: MatchGroup): void {
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
  const zero = group.rows.map(() => 0);
  work.sets.push({ id: `review-${group.matchId}-${stamp()}`, rows: group.rows, suggested: zero, groups: [...zero], state: 'suggested' });
  work.current = work.sets.length - 1;
  saveLocal(session, workKey(transformId), work);
}
