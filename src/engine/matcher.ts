/** The Matcher: profile → features → blocking → model → clustering, plus evaluation and active learning. */
import type {
  HeldOutMetrics,
  EngineLabel,
  EngineRun,
  EngineTable,
  EvaluationResult,
  LabelingSet,
  MatchParameters,
  MatchResult,
  Matcher,
} from './api.js';
import { chooseSets } from './active.js';
import { blockingRecall, generateCandidates, type Candidates } from './blocking.js';
import { clusterPairs } from './cluster.js';
import { planFeatures, pairFeatures, type Feature } from './features.js';
import { labeledPairs, type LabeledPairs } from './labels.js';
import { estimateOnCandidates } from './estimate.js';
import { areaUnderPR, confusionAt, maxF1 } from './metrics.js';
import { tradeoffThreshold } from './model.js';
import { prepareTable, type PreparedTable } from './profile.js';
import { blockingWeights, makeScorer, predictTrained, train, type Trained } from './training.js';

interface Prepared {
  pt: PreparedTable;
  features: Feature[];
  /** The last trained model, keyed by the labels and seed it was trained on. */
  lastTrained?: { key: string; trained: Trained; lp: LabeledPairs };
  /** The last candidate set and its probabilities, keyed by the model key and the parameters. */
  lastFitted?: { key: string; fitted: Fitted };
}

const cache = new WeakMap<EngineTable, Prepared>();

function prepare(table: EngineTable): Prepared {
  let p = cache.get(table);
  if (!p) {
    const pt = prepareTable(table);
    p = { pt, features: planFeatures(pt) };
    cache.set(table, p);
  }
  return p;
}

function checkAbort(run?: EngineRun) {
  if (run?.signal?.aborted) throw run.signal.reason ?? new Error('aborted');
}

const tradeoff = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 0.5 : Math.min(1, Math.max(0, v)));

interface Fitted {
  prep: Prepared;
  lp: LabeledPairs;
  trained: Trained;
  cand: Candidates;
  probs: Float32Array;
  threshold: number;
}

function fit(table: EngineTable, labels: readonly EngineLabel[], params: MatchParameters, run?: EngineRun): Fitted {
  const prep = prepare(table);
  const seed = params.seed ?? 0;
  const key = `${seed}\u0000${labels.map((l) => `${l.labelingSetId}\u0001${l.label}\u0001${l.key}`).join('\u0000')}`;
  let lp: LabeledPairs, trained: Trained;
  if (prep.lastTrained?.key === key) ({ lp, trained } = prep.lastTrained);
  else {
    lp = labeledPairs(table, labels);
    run?.progress?.(`training on ${lp.y.length} labeled pairs`);
    trained = train(prep.pt, prep.features, lp, seed);
    prep.lastTrained = { key, trained, lp };
  }
  checkAbort(run);
  const threshold = tradeoffThreshold(trained.baseThreshold, tradeoff(params.precisionRecallTradeoff), trained.oof);
  const fitKey = `${key}\u0002${tradeoff(params.accuracyCostTradeoff)}`;
  if (prep.lastFitted?.key === fitKey) return { ...prep.lastFitted.fitted, threshold };
  const cand = generateCandidates(prep.pt, {
    accuracyCostTradeoff: tradeoff(params.accuracyCostTradeoff),
    columnWeights: blockingWeights(trained),
  });
  run?.progress?.(`scoring ${cand.a.length} candidate pairs`);
  checkAbort(run);
  const probs = new Float32Array(cand.a.length);
  const scratch = new Float32Array(prep.features.length);
  for (let i = 0; i < cand.a.length; i++) {
    pairFeatures(prep.pt, prep.features, cand.a[i]!, cand.b[i]!, scratch, 0);
    probs[i] = predictTrained(trained, scratch, 0);
  }
  const fitted = { prep, lp, trained, cand, probs, threshold };
  prep.lastFitted = { key: fitKey, fitted };
  return fitted;
}

function labelConstraints(lp: LabeledPairs) {
  const must: Array<[number, number]> = [], cannot: Array<[number, number]> = [];
  for (let i = 0; i < lp.y.length; i++) (lp.y[i] ? must : cannot).push([lp.a[i]!, lp.b[i]!]);
  return { must, cannot };
}

export function createMatcher(): Matcher {
  return {
    async generateLabelingSets(table, labels, params, options) {
      const f = fit(table, labels, params, options);
      const sets = chooseSets({
        n: table.rowCount,
        cand: f.cand,
        ...(f.trained.supervised ? { p: f.probs } : {}),
        threshold: f.threshold,
        labeledRows: f.lp.labeledRows,
        sets: options.sets ?? 10,
        targetRows: options.targetRows ?? 100,
        seed: (params.seed ?? 0) + labels.length,
      });
      const score = makeScorer(f.trained);
      const existing = new Set(labels.map((l) => l.labelingSetId));
      const out: LabelingSet[] = [];
      let counter = existing.size;
      for (const rows of sets) {
        let id: string;
        do id = `set-${String(++counter).padStart(4, '0')}`; while (existing.has(id));
        existing.add(id);
        // Suggested grouping: the model's clustering restricted to the set.
        const a: number[] = [], b: number[] = [], p: number[] = [];
        for (let i = 0; i < rows.length; i++)
          for (let j = i + 1; j < rows.length; j++) {
            a.push(i); b.push(j); p.push(score(rows[i]!, rows[j]!));
          }
        const cl = clusterPairs({
          n: rows.length,
          a: Uint32Array.from(a),
          b: Uint32Array.from(b),
          p: Float32Array.from(p),
          threshold: f.threshold,
          score: (x, y) => score(rows[x]!, rows[y]!),
        });
        const names = new Map<number, string>();
        out.push({
          labelingSetId: id,
          rows: rows.map((row, i) => {
            const c = cl.cluster[i]!;
            if (!names.has(c)) names.set(c, labelName(names.size));
            return { row, suggestedLabel: names.get(c)! };
          }),
        });
      }
      return out;
    },

    async evaluate(table, labels, params, run) {
      const f = fit(table, labels, params, run);
      const pos: Array<[number, number]> = [];
      for (let i = 0; i < f.lp.y.length; i++) if (f.lp.y[i]) pos.push([f.lp.a[i]!, f.lp.b[i]!]);
      const res: EvaluationResult = {
        confusionMatrix: { numTruePositives: 0, numFalsePositives: 0, numTrueNegatives: 0, numFalseNegatives: 0 },
        columnImportances: f.trained.importances.map((c) => ({ columnName: c.columnName, importance: c.importance })),
      };
      const br = blockingRecall(f.cand, pos);
      if (br !== undefined) res.blockingRecall = br;
      const oof = f.trained.oof;
      if (oof) {
        // The confusion matrix and AUPRC describe the held-out labeled pairs themselves.
        res.confusionMatrix = confusionAt(oof.p, oof.y, f.threshold);
        const cm = res.confusionMatrix;
        const auc = areaUnderPR(oof.p, oof.y);
        if (auc !== undefined) res.areaUnderPRCurve = auc;
        const heldOut: HeldOutMetrics = {};
        const mf = maxF1(oof.p, oof.y);
        if (mf !== undefined) heldOut.f1 = mf;
        if (cm.numTruePositives + cm.numFalsePositives > 0)
          heldOut.precision = cm.numTruePositives / (cm.numTruePositives + cm.numFalsePositives);
        if (cm.numTruePositives + cm.numFalseNegatives > 0)
          heldOut.recall = cm.numTruePositives / (cm.numTruePositives + cm.numFalseNegatives);
        res.heldOut = heldOut;
        // Precision, recall and F1 are what the output is expected to score (estimate.ts).
        // F1 is the transform's best, so it is taken at the F1-optimal threshold whatever the
        // PrecisionRecallTradeoff (not the max over all thresholds: with few labels the calibrated
        // curve is steep and its maximum overshoots what any run reaches).
        const cal = f.trained.calibration;
        const est = cal ? estimateOnCandidates(f.probs, cal, f.threshold, br ?? 1) : {};
        const best = cal && f.threshold !== f.trained.baseThreshold
          ? estimateOnCandidates(f.probs, cal, f.trained.baseThreshold, br ?? 1)
          : est;
        const precision = est.precision ?? heldOut.precision;
        const recall = est.recall ?? heldOut.recall;
        const f1 = best.f1 ?? heldOut.f1;
        if (precision !== undefined) res.precision = precision;
        if (recall !== undefined) res.recall = recall;
        if (f1 !== undefined) res.f1 = f1;
      }
      return res;
    },

    async findMatches(table, labels, params, run) {
      const f = fit(table, labels, params, run);
      checkAbort(run);
      const score = makeScorer(f.trained);
      const cons = params.enforceProvidedLabels ? labelConstraints(f.lp) : undefined;
      const cl = clusterPairs({
        n: table.rowCount,
        a: f.cand.a,
        b: f.cand.b,
        p: f.probs,
        threshold: f.threshold,
        score,
        ...(cons ? { mustLink: cons.must, cannotLink: cons.cannot } : {}),
      });
      const matchId = new Float64Array(table.rowCount);
      for (let r = 0; r < table.rowCount; r++) matchId[r] = cl.cluster[r]!;
      let matched = 0;
      for (let i = 0; i < f.probs.length; i++) if (f.probs[i]! >= f.threshold) matched++;
      const { pt, features } = f.prep;
      const w = f.trained.model.weights;
      const scratch = new Float32Array(features.length);
      return {
        matchId,
        confidence: cl.confidence,
        stats: { candidatePairs: f.cand.a.length, scoredPairs: f.cand.a.length, matchedPairs: matched, groups: cl.groups },
        explain: (a: number, b: number) => {
          pairFeatures(pt, features, a, b, scratch, 0);
          return features
            .map((ft, i) => ({ column: ft.columnName, feature: ft.kind, contribution: w[i + 1]! * scratch[i]! }))
            .sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution))
            .slice(0, 5);
        },
      } satisfies MatchResult;
    },
  };
}

function labelName(i: number): string {
  let s = '';
  i++;
  while (i > 0) {
    const r = (i - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    i = Math.floor((i - 1) / 26);
  }
  return s;
}
