import type { GetMLTransformResponse } from '@aws-sdk/client-glue';
import { getTransform, latestTaskRuns, type RawTaskRun } from '../aws.js';
import { el, onLeave, show } from '../dom.js';
import type { Session } from '../session.js';
import { tradeoffForm } from './transforms.js';

/** The header every screen of one transform starts with: name, status, label count, its screens. */
export function transformHeader(transform: GetMLTransformResponse, screen: string): HTMLElement {
  const id = transform.TransformId!;
  const link = (path: string, text: string) =>
    el('a', { href: `#/transform/${id}${path}`, 'aria-current': screen === path ? 'page' : undefined }, text);
  return el(
    'div',
    { class: 'transform-header' },
    el('h1', {}, transform.Name ?? id),
    el(
      'p',
      {},
      'Status ',
      el('strong', { id: 'transform-status', class: `status ${transform.Status}` }, transform.Status),
      ' · ',
      el('span', { id: 'label-count' }, `${transform.LabelCount ?? 0} labels`),
      ' · ',
      el('code', {}, id),
    ),
    el('nav', { class: 'tabs', 'aria-label': 'Transform' }, link('', 'Overview'), link('/label', 'Label'), link('/quality', 'Quality'), link('/review', 'Review matches')),
  );
}

/** Overview: tradeoffs and the transform's task runs, refreshed while the screen is open. */
export async function transformView(session: Session, root: HTMLElement, transformId: string): Promise<void> {
  const transform = await getTransform(session, transformId);
  const runs = el('div', { id: 'task-runs' });
  show(
    root,
    transformHeader(transform, ''),
    el('h2', {}, 'Tradeoffs'),
    tradeoffForm(session, transform),
    el('h2', {}, 'Task runs'),
    runs,
  );
  await liveTaskRuns(session, transformId, runs);
}

/** The latest task runs of a transform with their progress, polled every two seconds until the screen is left. */
export async function liveTaskRuns(session: Session, transformId: string, into: HTMLElement): Promise<void> {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  onLeave(() => {
    stopped = true;
    clearTimeout(timer);
  });
  const draw = (runs: RawTaskRun[]) =>
    show(
      into,
      runs.length === 0
        ? el('p', {}, 'No task runs yet.')
        : el(
            'table',
            { class: 'list', 'aria-label': 'Task runs' },
            el('thead', {}, el('tr', {}, ...['Type', 'Status', 'Progress', 'Started', 'Seconds', 'Error'].map((h) => el('th', { scope: 'col' }, h)))),
            el(
              'tbody',
              {},
              ...runs.map((r) =>
                el(
                  'tr',
                  {},
                  el('td', {}, r.Properties?.TaskType ?? ''),
                  el('td', { class: `status ${r.Status}` }, r.Status),
                  el('td', {}, r.Progress ? `${r.Progress.Percent}% ${r.Progress.Stage}` : ''),
                  el('td', {}, r.StartedOn === undefined ? '' : new Date(r.StartedOn * 1000).toLocaleTimeString()),
                  el('td', { class: 'num' }, String(r.ExecutionTime ?? '')),
                  el('td', {}, r.ErrorString ?? ''),
                ),
              ),
            ),
          ),
    );
  const poll = async () => {
    if (stopped) return;
    try {
      draw(await latestTaskRuns(session, transformId, 8));
    } catch {
      // A failed refresh keeps the last table; the next one tries again.
    }
    if (!stopped) timer = setTimeout(() => void poll(), 2000);
  };
  await poll();
}
