/**
 * The quality screen's charts, drawn by uPlot (a small, dependency-free canvas chart library; its
 * stylesheet is copied into dist/ui by scripts/build-web.mjs). Every chart is a figure with a
 * caption and a text alternative listing its values. The confusion matrix is a table, not a chart.
 */
import uPlot from 'uplot';
import { el } from './dom.js';

const WIDTH = 420;
const AXIS = { stroke: '#55606e', grid: { stroke: '#e3e6eb', width: 1 }, ticks: { stroke: '#c9ced6', width: 1 } };
const COLORS: Record<string, string> = { f1: '#2456a6', auprc: '#b3431b', curve: '#2456a6', operating: '#b3431b' };

/** A figure holding a chart drawn by uPlot into a box that carries the text alternative. */
function figure(caption: string, description: string, opts: uPlot.Options, data: uPlot.AlignedData): HTMLElement {
  const box = el('div', { class: 'plot', role: 'img', 'aria-label': description });
  new uPlot(opts, data, box);
  return el('figure', { class: 'chart' }, box, el('figcaption', {}, caption));
}

/** Horizontal bars, one per label, values in [0, max]. */
export function barChart(caption: string, bars: Array<{ label: string; value: number }>, max = 1): HTMLElement {
  const opts: uPlot.Options = {
    width: WIDTH,
    height: bars.length * 24 + 40,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, ori: 1, dir: -1, range: [-0.5, bars.length - 0.5] },
      y: { ori: 0, range: [0, max] },
    },
    axes: [
      {
        ...AXIS,
        side: 3,
        size: 150,
        grid: { show: false },
        splits: () => bars.map((_, i) => i),
        values: () => bars.map((b) => `${b.label} ${b.value.toFixed(2)}`),
      },
      { ...AXIS, side: 2, values: (_, ticks) => ticks.map((t) => t.toFixed(1)) },
    ],
    series: [
      {},
      {
        label: 'importance',
        fill: COLORS.f1,
        stroke: COLORS.f1,
        paths: uPlot.paths.bars!({ size: [0.7, 18] }),
        points: { show: false },
      },
    ],
  };
  const data: uPlot.AlignedData = [bars.map((_, i) => i), bars.map((b) => Math.max(0, b.value))];
  return figure(caption, bars.map((b) => `${b.label} ${b.value.toFixed(2)}`).join(', '), opts, data);
}

export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
  className: string;
  /** Joined by a line (the default), or points alone. */
  line?: boolean;
  /** Drawn as points (the default), or as a line alone. */
  markers?: boolean;
}

/**
 * uPlot's data: one ascending x array shared by all series, a series' y null where it has no point.
 * Points of different series at the same x share a row; a series' second point at an x gets its own.
 */
function aligned(series: Series[]): uPlot.AlignedData {
  const rows: Array<{ x: number; ys: Array<number | null> }> = [];
  const points = series.flatMap((s, i) => s.points.map((p) => ({ ...p, i }))).sort((a, b) => a.x - b.x);
  for (const p of points) {
    let row = rows.findLast((r) => r.x === p.x && r.ys[p.i] === null);
    if (!row) rows.push((row = { x: p.x, ys: series.map(() => null) }));
    row.ys[p.i] = p.y;
  }
  return [rows.map((r) => r.x), ...series.map((_, i) => rows.map((r) => r.ys[i]!))];
}

/** The values of every series as text, "name: (x, y) (x, y); name: ...", the chart's text alternative unless one is given. */
const listValues = (series: Series[]) => series.map((s) => `${s.name}: ${s.points.map((p) => `(${p.x}, ${p.y.toFixed(2)})`).join(' ')}`).join('; ');

/**
 * Lines and points, y in [0, 1]; x in `xRange`, or from 0 to the largest x. A series' points of
 * equal x (a curve's vertical step) are kept in their order.
 */
export function lineChart(
  caption: string,
  axes: { x: string; y: string; xRange?: [number, number] },
  series: Series[],
  description = listValues(series),
): HTMLElement {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const xRange: uPlot.Range.MinMax = axes.xRange ?? [Math.min(...xs, 0), Math.max(...xs, 1)];
  const color = (i: number) => COLORS[series[i - 1]?.className ?? ''] ?? '#333';
  const opts: uPlot.Options = {
    width: WIDTH,
    height: 260,
    legend: { live: false, markers: { fill: (_, i) => color(i) } },
    cursor: { show: false },
    scales: { x: { time: false, range: xRange }, y: { range: [0, 1] } },
    axes: [
      { ...AXIS, label: axes.x, labelSize: 20 },
      { ...AXIS, label: axes.y, labelSize: 20, size: 40 },
    ],
    series: [
      { label: axes.x },
      ...series.map((s) => ({
        label: s.name,
        class: s.className,
        stroke: COLORS[s.className] ?? '#333',
        width: 2,
        spanGaps: true,
        paths: s.line === false ? () => null : undefined,
        points: {
          show: s.markers !== false,
          size: s.line === false ? 11 : 7,
          fill: COLORS[s.className] ?? '#333',
          stroke: COLORS[s.className] ?? '#333',
        },
      })),
    ],
  };
  return figure(caption, description, opts, aligned(series));
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
