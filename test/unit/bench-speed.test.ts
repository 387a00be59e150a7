import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { summarizeLatencies } from '../../bench/lib/latency-probe.js';
import { writeTruthLabelFile } from '../../bench/lib/people-data.js';
import {
  childPids,
  parseProcStat,
  ProcessTreeMonitor,
  sampleTree,
  statusBytes,
  treePids,
} from '../../bench/lib/proc-tree.js';
import { rangeCell, renderBenchmarks } from '../../bench/lib/report.js';
import { machine } from '../../bench/lib/results.js';
import { phaseOf, phaseSeconds, ProgressLog, type ProgressTransition } from '../../bench/lib/run-watch.js';
import {
  checkAcceptance,
  speedResultName,
  summarizeRepeats,
  type SpeedRepeat,
  type SpeedResult,
  type StageMeasure,
} from '../../bench/lib/speed-results.js';
import { median, percentile, rangeOf } from '../../bench/lib/stats.js';

describe('bench stats', () => {
  it('percentiles by nearest rank, always a measured value', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 90), 90);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([1, 2, 3], 50), 2);
    assert.equal(percentile([], 50), null);
    assert.throws(() => percentile([1], 0), /p must be/);
  });

  it('medians and ranges skip what was not measured', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([]), null);
    assert.deepEqual(rangeOf([5, null, 1, undefined, 3]), { median: 3, min: 1, max: 5, n: 3 });
    assert.equal(rangeOf([null, undefined]), null);
  });

  it('summarizes probe latencies', () => {
    const ms = Array.from({ length: 200 }, (_, i) => i + 1);
    const s = summarizeLatencies(ms, ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(
      { calls: s.calls, errors: s.errors, p50: s.p50Ms, p90: s.p90Ms, p99: s.p99Ms, max: s.maxMs },
      { calls: 200, errors: 6, p50: 100, p90: 180, p99: 198, max: 200 },
    );
    assert.deepEqual(s.errorSamples, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(summarizeLatencies([], []).p99Ms, null);
  });
});

describe('bench /proc reading', () => {
  it('parses /proc/<pid>/stat even when the command holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3)); // field k holds k
    fields[0] = 'S';
    const s = parseProcStat(`4242 (odd (name) x) ${fields.join(' ')}\n`);
    assert.deepEqual(s, { pid: 4242, ppid: 4, utime: 14, stime: 15, cutime: 16, cstime: 17 });
    assert.throws(() => parseProcStat('garbage'), /not a \/proc/);
  });

  it('reads kB fields of /proc/<pid>/status in bytes', () => {
    const text = 'Name:\tnode\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n';
    assert.equal(statusBytes(text, 'VmRSS'), 1024 * 1024);
    assert.equal(statusBytes(text, 'VmHWM'), 2048 * 1024);
    assert.equal(statusBytes(text, 'VmSwap'), null);
  });

  it('samples this test process: its CPU time and an RSS close to what Node reports', () => {
    const own = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.equal(own.pid, process.pid);
    assert.equal(own.ppid, process.ppid);
    const sample = sampleTree(process.pid).find((x) => x.pid === process.pid)!;
    assert.ok(sample.cpuTicks > 0);
    const rss = process.memoryUsage().rss;
    assert.ok(Math.abs(sample.rssBytes - rss) < rss * 0.25, `sampled ${sample.rssBytes}, Node says ${rss}`);
    assert.ok(sample.hwmBytes >= sample.rssBytes);
  });

  it('finds children and grandchildren, and counts the tree in a monitored stage', async () => {
    // A shell that starts a sleeping grandchild.
    const child = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    try {
      let kids: number[] = [];
      // The shell forks its child soon, but the machine may be busy: wait up to 10 s.
      for (let i = 0; i < 500 && kids.length === 0; i += 1) {
        await new Promise((r) => setTimeout(r, 20));
        kids = childPids(child.pid!);
      }
      assert.equal(kids.length, 1, 'the shell has one child');
      const tree = treePids(process.pid);
      assert.ok(tree.includes(child.pid!) && tree.includes(kids[0]!), `tree ${tree.join(',')}`);
      assert.equal(tree[0], process.pid, 'parents first');

      const monitor = new ProcessTreeMonitor(process.pid, 20);
      monitor.start();
      const stage = monitor.begin();
      const before = process.cpuUsage();
      const hold = Buffer.alloc(64 * 2 ** 20, 1); // touched: resident
      while (process.cpuUsage(before).user < 300_000); // busy: 0.3 s of CPU, however loaded the machine
      await new Promise((r) => setTimeout(r, 60));
      const usage = monitor.end(stage);
      monitor.stop();
      const own = process.cpuUsage(before);
      const ownSeconds = (own.user + own.system) / 1e6;
      assert.ok(hold[hold.length - 1] === 1);
      // /proc counts in clock ticks (10 ms); the monitor's own sampling adds a little.
      assert.ok(usage.cpuSeconds >= ownSeconds - 0.05 && usage.cpuSeconds < ownSeconds + 1, `cpu ${usage.cpuSeconds}, own ${ownSeconds}`);
      assert.equal(usage.peakProcess, 'server', 'the root is named server');
      assert.ok(usage.peakProcessRssBytes >= 64 * 2 ** 20, `peak ${usage.peakProcessRssBytes}`);
      assert.ok(usage.peakTreeRssBytes >= usage.peakProcessRssBytes - 2 ** 20);
      assert.ok(usage.samples >= 1, `samples ${usage.samples}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('bench run progress', () => {
  it('groups stage texts into phases', () => {
    assert.equal(phaseOf('reading table db.records'), 'read');
    assert.equal(phaseOf('profiling and preparing 1000000 rows'), 'prepare');
    assert.equal(phaseOf('training on 900 labeled pairs'), 'train');
    assert.equal(phaseOf('finding neighbours: 12000 of 1000000 rows'), 'block');
    assert.equal(phaseOf('collecting candidate pairs'), 'block');
    assert.equal(phaseOf('scoring 55510 candidate pairs: 1000 done'), 'score');
    assert.equal(phaseOf('grouping matches'), 'cluster');
    assert.equal(phaseOf('writing csv output to s3://b/k/'), 'write');
    assert.equal(phaseOf('finding matches among 5000 rows of t'), 'other');
  });

  it('records changes of stage with the server time when it fits, and derives phase seconds', () => {
    const clock = { perf: performance.now() - 10_000, epochMs: Date.now() - 10_000 }; // started 10 s ago
    const log = new ProgressLog(clock);
    const at = (s: number) => (clock.epochMs + s * 1000) / 1000;
    log.observe({ Status: 'RUNNING' });
    assert.equal(log.reported, false);
    log.observe({ Progress: { Stage: 'reading table t', Percent: 0, UpdatedOn: at(1) } });
    log.observe({ Progress: { Stage: 'reading table t', Percent: 5, UpdatedOn: at(1.5) } });
    log.observe({ Progress: { Stage: 'scoring 10 candidate pairs', Percent: 20, UpdatedOn: at(3) } });
    log.observe({ Progress: { Stage: 'scoring 10 candidate pairs: 5 done', Percent: 50, UpdatedOn: at(5) } });
    log.observe({ Progress: { Stage: 'writing csv output', Percent: 90, UpdatedOn: at(99) } }); // in the future: seen time
    assert.equal(log.reported, true);
    assert.deepEqual(
      log.transitions.map((t) => [t.stage.split(' ')[0], Math.round(t.at * 10) / 10, t.percent]),
      [
        ['reading', 1, 0],
        ['scoring', 3, 20],
        ['scoring', 5, 50],
        ['writing', Math.round(log.transitions[3]!.seenAt * 10) / 10, 90],
      ],
    );
    const transitions: ProgressTransition[] = [
      { at: 1, seenAt: 1, stage: 'reading table t', percent: 0 },
      { at: 3, seenAt: 3, stage: 'scoring 10 candidate pairs', percent: 20 },
      { at: 5, seenAt: 5, stage: 'scoring 10 candidate pairs: 5 done', percent: 50 },
      { at: 8, seenAt: 8, stage: 'writing csv output', percent: 90 },
    ];
    assert.deepEqual(phaseSeconds(transitions, 9), { start: 1, read: 2, score: 5, write: 1 });
    assert.equal(phaseSeconds([], 9), null);
  });
});

describe('bench truth label file', () => {
  it('packs whole entities, in order of first appearance, into sets of about the given size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'doppel-speed-labels-'));
    try {
      // Entities: A = r0, r3, r5; B = r1; C = r2, r4; D = r6; E = r7, r8.
      const truth = {
        ids: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'],
        entityIds: ['r0', 'r1', 'r2', 'r0', 'r2', 'r0', 'r6', 'r7', 'r7'],
      };
      const file = await writeTruthLabelFile(truth, 7, join(dir, 'labels.csv'), 'id', 4);
      const rows = parse(readFileSync(file.path)) as string[][];
      assert.deepEqual(rows[0], ['labeling_set_id', 'label', 'id']);
      assert.deepEqual(rows.slice(1), [
        ['set-0000001', 'A', 'r0'],
        ['set-0000001', 'A', 'r3'],
        ['set-0000001', 'A', 'r5'],
        ['set-0000001', 'B', 'r1'],
        ['set-0000002', 'A', 'r2'],
        ['set-0000002', 'A', 'r4'],
        ['set-0000002', 'B', 'r6'],
      ]);
      assert.deepEqual({ rows: file.rows, sets: file.labelingSets }, { rows: 7, sets: 2 });
      assert.equal(file.bytes, readFileSync(file.path).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const GiB = 2 ** 30;

function stage(seconds: number, extra: Partial<StageMeasure> = {}): StageMeasure {
  return {
    seconds,
    cpuSeconds: seconds * 1.5,
    peakProcessRssBytes: GiB,
    peakProcess: 'task-process.js',
    peakTreeRssBytes: 1.5 * GiB,
    samples: Math.round(seconds * 10),
    taskRunId: 'tsk-1',
    status: 'SUCCEEDED',
    errorString: null,
    progress: [],
    progressReported: true,
    ...extra,
  };
}

/** A completed repeat whose find-matches job took `fm` seconds and scored F1 `f1`. */
function repeatOf(repeat: number, fm: number, f1: number, records: number): SpeedRepeat {
  return {
    repeat,
    status: 'ok',
    startedAt: '2026-12-05T00:00:00.000Z',
    loadAverage: { start: 1, end: 1 },
    setup: { serverStartSeconds: 1, uploadSeconds: 1, uploadBytes: 100 },
    rounds: [1, 2, 3].map((round) => ({
      round,
      labelingSet: stage(round === 1 ? 12 : 6),
      labelingSetRows: 100,
      labelingSets: 10,
      matchedRows: 70,
      import: stage(2),
      labeledRows: round * 100,
      labelCount: round * 100,
      seconds: round === 1 ? 16 : 10,
    })),
    evaluation: { ...stage(20), precision: 0.99, recall: 0.97, f1: f1 - 0.01, areaUnderPRCurve: 0.9, blockingRecall: 0.99 },
    restartSeconds: 1,
    findMatches: {
      ...stage(fm, { peakProcessRssBytes: 3 * GiB }),
      jobRunId: 'jr_1',
      candidatePairs: records * 10,
      scoredPairs: records * 10,
      matchedPairs: records,
      matchGroups: records / 2,
      phases: { start: 1, read: 2, score: fm / 2, write: fm / 2 - 3 },
      scoringSeconds: fm / 2,
      scoringSecondsFrom: 'progress',
      pairsPerSecond: (records * 10) / (fm / 2),
      pairsPerSecondPerCore: (records * 5) / (fm / 2),
    },
    score: {
      precision: f1,
      recall: f1,
      f1,
      truePositives: 1,
      predictedPairs: 1,
      truePairs: 1,
      outputRows: records,
      missingRecords: 0,
      unknownIds: 0,
      duplicateIds: 0,
    },
    probe:
      records === 1_000_000
        ? {
            importRows: 1_000_000,
            importLabelingSets: 100_000,
            importFileBytes: 22e6,
            import: stage(30),
            seconds: fm,
            latency: { calls: 1000, errors: 0, p50Ms: 5, p90Ms: 20, p99Ms: 150 + repeat, maxMs: 300, errorSamples: [] },
          }
        : null,
    integrity: { ok: true, attemptsReported: true, runs: [], logLines: [] },
  };
}

function resultOf(records: number, repeats: SpeedRepeat[], act?: number): SpeedResult {
  return {
    benchmark: 'speed',
    records,
    seed: 1,
    roundsRequested: 3,
    repeatsRequested: repeats.length,
    parameters: act === undefined ? {} : { accuracyCostTradeoff: act },
    dataset: { name: `synthetic_people_${records}`, dir: '/tmp/x', entities: records / 2, truePairs: records, recordsBytes: records * 110, generatedSeconds: null },
    status: 'ok',
    startedAt: '2026-12-05T00:00:00.000Z',
    finishedAt: '2026-12-05T01:00:00.000Z',
    machine: machine(),
    doppel: { version: '0.1.0', commit: 'abc1234' },
    repeats,
    summary: summarizeRepeats(repeats, records),
  };
}

describe('bench speed results and report', () => {
  it('names result files by size and AccuracyCostTradeoff', () => {
    assert.equal(speedResultName(1_000_000), 'speed-1000000');
    assert.equal(speedResultName(1_000_000, 1), 'speed-1000000-act1');
  });

  it('summarizes completed repeats as medians and ranges', () => {
    const failed: SpeedRepeat = { ...repeatOf(4, 1, 0, 1_000_000), status: 'failed', error: 'boom' };
    const s = summarizeRepeats([repeatOf(1, 50, 0.99, 1_000_000), repeatOf(2, 40, 0.985, 1_000_000), repeatOf(3, 60, 0.99, 1_000_000), failed], 1_000_000);
    assert.equal(s.repeats, 3);
    assert.deepEqual(s.findMatchesSeconds, { median: 50, min: 40, max: 60, n: 3 });
    assert.deepEqual(s.labelingSetSeconds, { median: 6, min: 6, max: 6, n: 3 });
    assert.deepEqual(s.labelingSetMaxSeconds, { median: 12, min: 12, max: 12, n: 3 });
    assert.equal(s.roundSeconds!.median, 10);
    assert.equal(s.wholeRoundSeconds!.median, 10 + 20 + 50);
    assert.equal(s.labeledRows!.median, 300);
    assert.equal(s.microsecondsPerRecord!.median, 50);
    assert.equal(s.pairsPerRecord!.median, 10);
    assert.equal(s.phaseSeconds.score!.median, 25);
    assert.equal(s.phaseSeconds.block, undefined);
    assert.equal(s.peakProcessRssBytes!.median, 3 * GiB);
    assert.equal(s.peakProcessRssAnyStageBytes!.median, 3 * GiB);
    assert.equal(s.f1!.median, 0.99);
    assert.ok(Math.abs(s.f1Gap!.median - 0.01) < 1e-12);
    assert.equal(s.probeP99Ms!.median, 152);
    assert.equal(s.integrityOk, 3);
    assert.equal(s.pairsPerSecondFromWallTime, false);
  });

  it('checks the acceptance targets against the medians: met, not met, not measured', () => {
    const only1M = checkAcceptance([resultOf(1_000_000, [repeatOf(1, 50, 0.99, 1_000_000)])]);
    const status = (list: typeof only1M, prefix: string) => list.find((c) => c.target.startsWith(prefix))?.status;
    assert.equal(status(only1M, '1M: find-matches'), 'met');
    assert.equal(status(only1M, '1M: peak RSS'), 'met');
    assert.equal(status(only1M, '1M: whole round'), 'met'); // 10 + 20 + 50 s
    assert.equal(status(only1M, '1M: labeling-set'), 'met');
    assert.equal(status(only1M, '1M: GetMLTransform'), 'met');
    assert.equal(status(only1M, '5M: find-matches'), 'not measured');
    assert.equal(status(only1M, 'near-linear'), 'not measured');
    assert.equal(status(only1M, 'no JS engine limit'), 'not measured');

    const slow = checkAcceptance([
      resultOf(100_000, [repeatOf(1, 4, 0.99, 100_000)]),
      resultOf(1_000_000, [repeatOf(1, 70, 0.97, 1_000_000)]),
      resultOf(5_000_000, [repeatOf(1, 350, 0.985, 5_000_000)]),
      { ...resultOf(1_000_000, [repeatOf(1, 90, 0.98, 1_000_000)], 1), status: 'failed', error: 'heap out of memory' },
    ]);
    assert.equal(status(slow, '1M: find-matches'), 'not met');
    assert.equal(status(slow, '1M: F1'), 'not met');
    assert.equal(status(slow, '5M: find-matches'), 'met');
    // 40 → 70 → 70 µs per record: ×1.75 from 100k to 1M.
    const scaling = slow.find((c) => c.target.startsWith('near-linear'))!;
    assert.equal(scaling.status, 'not met');
    assert.match(scaling.detail, /40\.0 → 70\.0 → 70\.0 µs\/record \(×1\.75, ×1\.00\)/);
    assert.equal(status(slow, '100k, 1M and 5M'), 'not met');
    const limits = slow.find((c) => c.target.startsWith('no JS engine limit'))!;
    assert.equal(limits.status, 'not met');
    assert.match(limits.detail, /speed-1000000-act1: failed \(heap out of memory\)/);
  });

  it('renders the speed section after the quality tables, keeping them', () => {
    assert.equal(rangeCell({ median: 2, min: 1, max: 3, n: 3 }, String), '2 (1–3)');
    assert.equal(rangeCell({ median: 2, min: 2, max: 2, n: 3 }, String), '2');
    assert.equal(rangeCell(null, String), '–');
    const runs = [
      resultOf(1_000_000, [repeatOf(1, 50, 0.99, 1_000_000), repeatOf(2, 40, 0.985, 1_000_000), repeatOf(3, 60, 0.99, 1_000_000)]),
      resultOf(100_000, [repeatOf(1, 4, 0.99, 100_000)]),
    ];
    const md = renderBenchmarks([], [], runs);
    assert.ok(md.indexOf('## Match quality') < md.indexOf('## Speed and scale'));
    assert.ok(md.indexOf('## Speed and scale') < md.indexOf('## Machines'));
    assert.match(md, /- \*\*met\*\*: 1M: find-matches ≤ 60 s \(50\.0 s\)/);
    const timeRows = md.split('\n').filter((l) => /^\| (100,000|1,000,000) \| default \| \d of \d \|/.test(l));
    assert.equal(timeRows.length, 2);
    assert.ok(timeRows[0]!.startsWith('| 100,000 |'), 'sizes ascending');
    assert.match(timeRows[1]!, /\| 50 \(40–60\) \| 75 \(60–90\) \| 1\.50 \| 3\.00 \| 1\.50 \| 50\.0 \(40\.0–60\.0\) \|$/);
    assert.match(md, /`speed-1000000`: synthetic_people_1000000 .* load average at the start of each repeat: 1, 1, 1\./);
    assert.match(md, /- M1: /);
  });
});
