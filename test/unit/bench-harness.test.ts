import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { labelFromTruth, labelName } from '../../bench/lib/labeler.js';
import { renderBenchmarks } from '../../bench/lib/report.js';
import { learningCurveCsv, type DatasetResult, type RoundResult, type SweepPoint } from '../../bench/lib/results.js';
import { F1_TARGETS } from '../../bench/lib/targets.js';

describe('bench labeler: labels a labeling set from the truth', () => {
  const truth = new Map([
    ['a', 'E1'],
    ['b', 'E1'],
    ['c', 'E2'],
    ['d', 'E3'],
    ['e', 'E3'],
  ]);

  it('gives records of one entity one label within a set and different entities different labels', () => {
    const set =
      'labeling_set_id,label,id,name\n' +
      's1,0,a,"Doe, John"\ns1,0,b,"multi\nline"\ns1,0,c,x\n' + // suggested: all one group
      's2,7,d,y\ns2,8,e,z\ns2,9,a,w\n'; // suggested: all apart
    const out = labelFromTruth([set], truth, 'id');
    const rows = parse(out.csv) as string[][];
    assert.deepEqual(rows[0], ['labeling_set_id', 'label', 'id', 'name']);
    assert.deepEqual(
      rows.slice(1).map((r) => [r[0], r[1], r[2]]),
      [
        ['s1', 'A', 'a'],
        ['s1', 'A', 'b'],
        ['s1', 'B', 'c'],
        ['s2', 'A', 'd'],
        ['s2', 'A', 'e'],
        ['s2', 'B', 'a'],
      ],
    );
    assert.equal(rows[2]![3], 'multi\nline', 'values survive unchanged');
    assert.deepEqual(
      out.labels.map((l) => [l.labelingSetId, l.label, l.key]),
      rows.slice(1).map((r) => [r[0], r[1], r[2]]),
      'the labels as the server stores them, in file order',
    );
    assert.equal(out.rows, 6);
    assert.equal(out.labelingSets, 2);
    assert.equal(out.matchedRows, 4);
    // s1: suggested a-b same (right), a-c same (wrong), b-c same (wrong); s2: d-e apart (wrong),
    // d-a apart (right), e-a apart (right) → 3 of 6 pairs agree.
    assert.deepEqual(out.suggestion, { agreeingPairs: 3, pairs: 6 });
  });

  it('reads several part files and refuses unknown records or a wrong header', () => {
    const p1 = 'labeling_set_id,label,id\ns1,x,a\n';
    const p2 = 'labeling_set_id,label,id\ns1,x,b\n';
    assert.equal(labelFromTruth([p1, Buffer.from(p2)], truth, 'id').matchedRows, 2);
    assert.throws(() => labelFromTruth(['labeling_set_id,label,id\ns1,x,zz\n'], truth, 'id'), /does not have: zz/);
    assert.throws(() => labelFromTruth(['set,label,id\ns1,x,a\n'], truth, 'id'), /header starts labeling_set_id,label/);
    assert.throws(() => labelFromTruth(['labeling_set_id,label,key\ns1,x,a\n'], truth, 'id'), /no primary key column id/);
    assert.equal(labelFromTruth([''], truth, 'id').rows, 0, 'an empty labeling set labels nothing');
    assert.equal(labelFromTruth([], truth, 'id').rows, 0);
  });

  it('names labels A..Z, AA, AB, ...', () => {
    assert.deepEqual([0, 1, 25, 26, 27, 51, 52, 701, 702].map(labelName), ['A', 'B', 'Z', 'AA', 'AB', 'AZ', 'BA', 'ZZ', 'AAA']);
  });
});

const fmtMean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4);

describe('bench report', () => {
  const round = (n: number, f1: number, evalF1: number | null): RoundResult => ({
    round: n,
    labelingSets: 10,
    roundRows: 100,
    roundMatchedRows: 40,
    labeledRows: 100 * n,
    labelCount: 100 * n,
    suggestionAgreement: 0.5,
    precision: f1,
    recall: f1,
    f1,
    truePositives: 1,
    predictedPairs: 1,
    truePairs: 1,
    missingRecords: 0,
    unknownIds: 0,
    outputRows: 864,
    evaluation: evalF1 === null ? null : { precision: evalF1, recall: evalF1, f1: evalF1, areaUnderPRCurve: null },
    seconds: { round: 2, labelingSet: 0.5, importLabels: 0.5, evaluation: 0.5, findMatches: 0.5 },
  });
  const result: DatasetResult = {
    dataset: 'restaurant',
    task: 'dedup',
    records: 864,
    truePairs: 112,
    scorePairs: 'all',
    target: 0.95,
    roundsRequested: 2,
    seed: 1,
    parameters: {},
    status: 'ok',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    machine: { cpu: 'Test CPU', cpus: 2, memoryGiB: 4, node: 'v20.0.0', os: 'linux', date: '2026-01-01T00:00:00.000Z' },
    doppel: { version: '0.1.0', commit: 'abc1234' },
    setupSeconds: 1,
    rounds: [round(1, 0.9, 0.8), round(2, 0.96, 0.94)],
    roundsToTarget: 2,
  };

  it('lists every target dataset, measured or not, and only measured numbers', () => {
    const md = renderBenchmarks([result]);
    for (const name of Object.keys(F1_TARGETS)) assert.match(md, new RegExp(`^\\| ${name} \\|`, 'm'));
    const row = md.split('\n').find((l) => l.startsWith('| restaurant |'))!;
    // One seed; two rounds: nothing from round 3 on, and no extension members or replay recorded.
    assert.match(
      row,
      /\| 0\.950 \| 1 \| 2 \| 2 \| 200 \| 0\.9600 \| 0\.9600 \| 0\.9600 \| 0\.9600–0\.9600 \| – \| – \| – \| – \| – \| 2\.0 \| 0\.5 \|/,
    );
    assert.match(row, /meets target \|$/);
    assert.match(md, /^\| febrl4 \|.*not measured yet \|$/m);
    assert.match(md, /M1: 2 × Test CPU, 4 GiB RAM, linux, Node v20\.0\.0/);
    assert.match(md, /### restaurant/);
  });

  it('lists tradeoff runs apart, beside the default run', () => {
    const high: DatasetResult = { ...result, parameters: { precisionRecallTradeoff: 0.9 }, rounds: [round(1, 0.5, null)] };
    const md = renderBenchmarks([result], [high]);
    assert.match(md, /## Tradeoffs/);
    assert.match(md, /^\| restaurant \| default \| default \| 2 \| 200 \| 0\.9600 .*\| seed 1, M1, /m);
    assert.match(md, /^\| restaurant \| 0\.9 \| default \| 1 \| 100 \| 0\.5000 /m);
    assert.equal(md.match(/^\| restaurant \|/gm)!.length, 3, 'summary row + two tradeoff rows');
  });

  it('writes the learning curve as CSV', () => {
    const csv = learningCurveCsv(result);
    const rows = parse(csv, { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, 2);
    assert.equal(rows[1]!['labeled_rows'], '200');
    assert.equal(rows[1]!['f1'], '0.96');
    assert.equal(rows[1]!['eval_f1'], '0.94');
    assert.equal(rows[1]!['candidate_pairs'], '', 'absent in results recorded before the extension members');
    assert.equal(rows[1]!['true_candidate_recall'], '', 'absent where not measured');
  });

  it("records doppel's extension counts per round (CSV and learning curve)", () => {
    const withCounts: DatasetResult = {
      ...result,
      rounds: [{ ...round(1, 0.9, 0.8), candidatePairs: 8541, matchedPairs: 127, blockingRecall: 0.98 }],
    };
    const rows = parse(learningCurveCsv(withCounts), { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows[0]!['candidate_pairs'], '8541');
    assert.equal(rows[0]!['matched_pairs'], '127');
    assert.equal(rows[0]!['blocking_recall'], '0.98');
    const md = renderBenchmarks([withCounts]);
    assert.match(md, /^\| 1 \| 100 \| 0\.9000 \| 0\.9000 \| 0\.9000 \| 0\.8000 \| 8,541 \| 0\.9800 \|/m);
    assert.doesNotMatch(md, /## Tradeoff sweeps/, 'no sweep, no sweep section');
  });

  it('sums up several seeds: last-round F1 mean and range, drops and estimate gaps from round 3, true candidate recall', () => {
    const run = (seed: number, f1s: number[], evalF1s: number[], last: Partial<RoundResult>, roundsToTarget: number | null): DatasetResult => ({
      ...result,
      seed,
      roundsRequested: f1s.length,
      rounds: f1s.map((f1, i) => ({ ...round(i + 1, f1, evalF1s[i]!), ...(i === f1s.length - 1 ? last : {}) })),
      roundsToTarget,
    });
    const replay = (recall: number) => ({
      blockingRecall: 0.99,
      trueCandidateRecall: recall,
      candidatePairs: 9000,
      candidateReplay: { candidatePairs: 9000, trueCandidatePairs: recall * 100, truePairs: 100, seconds: 1 },
    });
    const runs = [
      // The rise from round 2 to 3 and the fall from 2 to 3 are before round 3 → 4: not counted.
      run(2, [0.5, 0.9, 0.96, 0.95, 0.97], [0.5, 0.9, 0.92, 0.95, 0.97], replay(0.97), 3),
      run(1, [0.9, 0.8, 0.96, 0.96, 0.955], [0.9, 0.8, 0.96, 0.97, 0.975], replay(0.95), 1),
      run(3, [0.9, 0.96, 0.94, 0.9, 0.94], [0.9, 0.96, 0.94, 0.91, 0.95], { blockingRecall: 0.98 }, 2),
    ];
    const md = renderBenchmarks(runs);
    const cellsOf = (start: string) => md.split('\n').find((l) => l.startsWith(start))!.slice(2, -2).split(' | ');
    const cells = cellsOf('| restaurant |');
    const header = cellsOf('| dataset |');
    const cell = (name: string) => cells[header.indexOf(name)];
    assert.equal(cell('seeds'), '1, 2, 3');
    assert.equal(cell('rounds to target (per seed)'), '1, 3, 2');
    assert.equal(cell('F1'), fmtMean([0.955, 0.97, 0.94]));
    assert.equal(cell('F1 min–max'), '0.9400–0.9700');
    assert.equal(cell('largest F1 drop from round 3'), '0.0400 (seed 3, round 3 → 4)');
    // Gaps from round 3 on: seed 1 0, 0.01, 0.02; seed 2 0.04, 0, 0; seed 3 0, 0.01, 0.01.
    assert.equal(cell('|est − true| from round 3: mean'.replace(/\|/g, '\\|')), fmtMean([0, 0.01, 0.02, 0.04, 0, 0, 0, 0.01, 0.01]));
    assert.equal(cell('|est − true| from round 3: max'.replace(/\|/g, '\\|')), '0.0400 (seed 2, round 3)');
    assert.equal(cell('BlockingRecall'), fmtMean([0.99, 0.99, 0.98]));
    assert.equal(cell('true candidate recall'), fmtMean([0.95, 0.97]), 'the mean over the seeds that measured it');
    assert.equal(cell('status'), 'seed 1: meets target; seed 2: meets target; seed 3: reached it in round 2, below it after round 5');
    // The learning curve shows the lowest seed and says so; its replay is described.
    assert.match(md, /### restaurant\n\ndedup, .*; seed 1 \(this table; seeds run: 1, 2, 3\);/);
    assert.match(md, /True candidate recall after round 5: 0\.9500, 95 of 100 true pairs among the 9,000 candidate pairs of the in-process replay \(the server's run: 9,000\)\./);
    assert.equal(md.match(/^### restaurant$/gm)!.length, 1, 'one learning curve per dataset');
    const csv = parse(learningCurveCsv(runs[1]!), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(csv.map((r) => r['true_candidate_recall']), ['', '', '', '', '0.95']);
  });

  it('says F1 never fell when it did not', () => {
    const rising: DatasetResult = { ...result, rounds: [1, 2, 3, 4].map((n) => round(n, 0.9 + n / 100, 0.9)) };
    const md = renderBenchmarks([rising]);
    assert.match(md.split('\n').find((l) => l.startsWith('| restaurant |'))!, /\| none \|/);
  });

  it('renders tradeoff sweeps as a per-dataset table, sorted by parameter and value', () => {
    const point = (parameter: SweepPoint['parameter'], value: number, p: number, r: number): SweepPoint => ({
      parameter,
      value,
      precision: p,
      recall: r,
      f1: (2 * p * r) / (p + r),
      predictedPairs: 100,
      evaluation: { precision: p, recall: r, f1: null },
      candidatePairs: 1000 + value * 1000,
      matchedPairs: 50,
      blockingRecall: 0.9,
      seconds: 3,
    });
    const swept: DatasetResult = {
      ...result,
      sweeps: [
        point('AccuracyCostTradeoff', 0.9, 0.8, 0.8),
        point('PrecisionRecallTradeoff', 0.9, 0.99, 0.5),
        point('PrecisionRecallTradeoff', 0.1, 0.5, 0.99),
        { ...point('AccuracyCostTradeoff', 0.1, 0, 0), precision: null, recall: null, f1: null, error: 'job run x ended FAILED: a|b' },
      ],
    };
    const md = renderBenchmarks([swept]);
    assert.match(md, /## Tradeoff sweeps/);
    assert.match(md, /\*\*restaurant\*\*, seed 1: PrecisionRecallTradeoff default, AccuracyCostTradeoff default as created; 200 labeled rows after round 2/);
    const rows = md.split('\n').filter((l) => /^\| (PrecisionRecallTradeoff|AccuracyCostTradeoff|last round) \|/.test(l));
    assert.deepEqual(
      rows.map((l) => l.split(' | ').slice(0, 2).join(' ')),
      ['| last round as created', '| PrecisionRecallTradeoff 0.1', '| PrecisionRecallTradeoff 0.9', '| AccuracyCostTradeoff 0.1', '| AccuracyCostTradeoff 0.9'],
    );
    assert.match(rows[1]!, /\| 0\.5000 \| 0\.9900 \| .* \| 1,100 \| 50 \| 0\.9000 \| 3\.0 \| +\|$/);
    assert.match(rows[3]!, /failed: job run x ended FAILED: a\\\|b \|$/);
  });
});
