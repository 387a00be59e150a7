/**
 * Small SVG charts drawn directly: the UI needs four simple pictures, which a chart library would
 * multiply the bundle for. Every chart is a figure with a caption and a text alternative.
 */
import { el } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function figure(caption: string, description: string, chart: Element): HTMLElement {
  chart.setAttribute('role', 'img');
  chart.setAttribute('aria-label', description);
  return el('figure', { class: 'chart' }, chart, el('figcaption', {}, caption));
}

/** Horizontal bars, one per label, values in [0, max]. */
export function barChart(caption: string, bars: Array<{ label: string; value: number }>, max = 1): HTMLElement {
  const rowHeight = 22;
  const width = 420;
  const labelWidth = 140;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${bars.length * rowHeight + 4}`, width, class: 'bars' });
  bars.forEach((b, i) => {
    const y = i * rowHeight + 2;
    const w = Math.max(1, ((width - labelWidth - 50) * Math.max(0, b.value)) / max);
    chart.append(
      svg('text', { x: labelWidth - 6, y: y + 14, 'text-anchor': 'end' }, b.label),
      svg('rect', { x: labelWidth, y: y + 3, width: w, height: rowHeight - 8, class: 'bar' }),
      svg('text', { x: labelWidth + w + 4, y: y + 14 }, b.value.toFixed(2)),
    );
  });
  return figure(caption, bars.map((b) => `${b.label} ${b.value.toFixed(2)}`).join(', '), chart);
}

export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
  className: string;
}

/** Lines and points on axes x in [xMin, xMax], y in [0, 1]. */
export function lineChart(caption: string, xLabel: string, yLabel: string, series: Series[], lines = true): HTMLElement {
  const width = 420;
  const height = 240;
  const pad = { left: 44, right: 12, top: 12, bottom: 36 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const xMin = lines ? Math.min(...xs, 0) : 0;
  const xMax = lines ? Math.max(...xs, 1) : 1;
  const px = (x: number) => pad.left + ((x - xMin) / (xMax - xMin || 1)) * (width - pad.left - pad.right);
  const py = (y: number) => height - pad.bottom - y * (height - pad.top - pad.bottom);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, class: 'lines' });
  chart.append(
    svg('line', { x1: pad.left, y1: py(0), x2: width - pad.right, y2: py(0), class: 'axis' }),
    svg('line', { x1: pad.left, y1: py(0), x2: pad.left, y2: py(1), class: 'axis' }),
    svg('text', { x: (width + pad.left) / 2, y: height - 4, 'text-anchor': 'middle' }, xLabel),
    svg('text', { x: 12, y: height / 2, transform: `rotate(-90 12 ${height / 2})`, 'text-anchor': 'middle' }, yLabel),
  );
  for (const t of [0, 0.5, 1]) chart.append(svg('text', { x: pad.left - 4, y: py(t) + 4, 'text-anchor': 'end' }, String(t)));
  chart.append(svg('text', { x: px(xMin), y: py(0) + 14, 'text-anchor': 'middle' }, String(xMin)));
  chart.append(svg('text', { x: px(xMax), y: py(0) + 14, 'text-anchor': 'end' }, String(xMax)));
  series.forEach((s, i) => {
    if (lines && s.points.length > 1) {
      chart.append(svg('polyline', { points: s.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' '), class: `series ${s.className}` }));
    }
    for (const p of s.points) chart.append(svg('circle', { cx: px(p.x), cy: py(p.y), r: 4, class: `series ${s.className}` }));
    chart.append(svg('text', { x: width - pad.right - 4, y: pad.top + 14 * (i + 1), 'text-anchor': 'end', class: `legend ${s.className}` }, `● ${s.name}`));
  });
  const description = series.map((s) => `${s.name}: ${s.points.map((p) => `(${p.x}, ${p.y.toFixed(2)})`).join(' ')}`).join('; ');
  return figure(caption, description, chart);
}

export interface Confusion {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

/** The confusion matrix as a table, cells shaded by their share of the pairs. */
export function confusionMatrix(caption: string, m: Confusion): HTMLElement {
  const total = m.truePositives + m.falsePositives + m.trueNegatives + m.falseNegatives || 1;
  const cell = (n: number, good: boolean) =>
    el('td', { class: good ? 'good' : 'bad', style: `--share:${(n / total).toFixed(3)}` }, String(n));
  return el(
    'figure',
    { class: 'chart' },
    el(
      'table',
      { class: 'confusion' },
      el('thead', {}, el('tr', {}, el('td'), el('th', { scope: 'col' }, 'labeled match'), el('th', { scope: 'col' }, 'labeled non-match'))),
      el(
        'tbody',
        {},
        el('tr', {}, el('th', { scope: 'row' }, 'predicted match'), cell(m.truePositives, true), cell(m.falsePositives, false)),
        el('tr', {}, el('th', { scope: 'row' }, 'predicted non-match'), cell(m.falseNegatives, false), cell(m.trueNegatives, true)),
      ),
    ),
    el('figcaption', {}, caption),
  );
}
