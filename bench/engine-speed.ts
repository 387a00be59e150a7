/**
 * The engine's stages timed without the server: `node dist/bench/engine-speed.js <dataset|folder>
 * [labels.json]` loads records.csv (streamed, dictionary-encoded as it is read), runs findMatches
 * (or `--evaluate`: evaluate) with the labels (a file engine-loop.js wrote with LABELS_FILE; none:
 * the model without labels; `ACT=x` sets AccuracyCostTradeoff) and prints, per engine stage, wall time and the process's CPU time
 * (every thread), then the run's counts, the scoring throughput, peak RSS and, for findMatches,
 * pairwise precision / recall / F1 against truth.csv. `THREADS=n` sets the engine's worker threads.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { createMatcher } from '../src/engine/index.js';
import type { EngineLabel } from '../src/engine/api.js';
import { TableEncoder } from '../src/engine/table.js';
import { resolveDatasetDir } from './lib/datasets.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const evaluateOnly = process.argv.includes('--evaluate');
const dir = resolveDatasetDir(args[0] ?? 'febrl3');
const labels: EngineLabel[] = args[1] ? (JSON.parse(readFileSync(args[1], 'utf8')) as EngineLabel[]) : [];

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const cpuSeconds = (u: NodeJS.CpuUsage) => ((u.user + u.system) / 1e6).toFixed(1);

let t = performance.now();
let encoder: TableEncoder | undefined;
let header: string[] | undefined;
for await (const row of createReadStream(join(dir, 'records.csv')).pipe(parse()) as AsyncIterable<string[]>) {
  if (!header) {
    header = row;
    encoder = new TableEncoder(header.map((name) => ({ name })));
    continue;
  }
  encoder!.addRow(row.map((v) => (v === '' ? null : v)));
}
const table = encoder!.finish(Math.max(0, header!.indexOf('id')));
console.log(`${dir}: ${table.rowCount} rows loaded in ${seconds(performance.now() - t)}s, ${labels.length} labels`);

const threads = process.env['THREADS'] ? Number(process.env['THREADS']) : undefined;
const params = { seed: 1, ...(process.env['ACT'] ? { accuracyCostTradeoff: Number(process.env['ACT']) } : {}) };
const matcher = createMatcher(threads === undefined ? {} : { threads });
let stage = '', stageStart = performance.now(), stageCpu = process.cpuUsage();
const stageTimes: Record<string, number> = {};
const endStage = () => {
  if (stage) {
    const ms = performance.now() - stageStart;
    stageTimes[stage] = ms;
    console.log(`  ${stage.padEnd(40)} ${seconds(ms).padStart(6)}s wall ${cpuSeconds(process.cpuUsage(stageCpu)).padStart(6)}s cpu`);
  }
  stageStart = performance.now();
  stageCpu = process.cpuUsage();
};
const run = {
  progress: (message: string) => {
    // A stage is the message without its counts ("scoring 123 candidate pairs: 45 done" → "scoring").
    const name = message.split(/[:\d]/)[0]!.trim();
    if (name !== stage) {
      endStage();
      stage = name;
    }
  },
};
t = performance.now();
const cpu0 = process.cpuUsage();
if (evaluateOnly) {
  const res = await matcher.evaluate(table, labels, params, run);
  endStage();
  console.log(`evaluate ${seconds(performance.now() - t)}s wall, ${cpuSeconds(process.cpuUsage(cpu0))}s cpu`, res);
} else {
  const res = await matcher.findMatches(table, labels, params, run);
  endStage();
  const scoring = Object.entries(stageTimes).find(([name]) => name.startsWith('scoring'))?.[1];
  console.log(`findMatches ${seconds(performance.now() - t)}s wall, ${cpuSeconds(process.cpuUsage(cpu0))}s cpu`, res.stats);
  if (scoring) console.log(`scoring: ${Math.round((res.stats.scoredPairs / scoring) * 1000)} pairs/s`);
  const truth = readFileSync(join(dir, 'truth.csv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split(',')[1]!);
  const pairs = (key: (r: number) => string | number) => {
    const sizes = new Map<string | number, number>();
    for (let r = 0; r < truth.length; r++) sizes.set(key(r), (sizes.get(key(r)) ?? 0) + 1);
    let p = 0;
    for (const v of sizes.values()) p += (v * (v - 1)) / 2;
    return p;
  };
  const predicted = pairs((r) => res.matchId[r]!), actual = pairs((r) => truth[r]!);
  const both = pairs((r) => `${res.matchId[r]}|${truth[r]}`);
  const precision = both / predicted, recall = both / actual;
  console.log(`P ${precision.toFixed(4)} R ${recall.toFixed(4)} F1 ${((2 * precision * recall) / (precision + recall)).toFixed(4)}`);
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GiB`);
