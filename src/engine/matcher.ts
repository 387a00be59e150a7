/** The Matcher: profile → features → blocking → model → clustering, plus evaluation and active learning. */
import type {
  CandidatePairs,
  HeldOutMetrics,
  EngineLabel,
  EngineRun,
  EngineTable,
  EvaluationResult,
  FindMatchesRun,
  LabelingSet,
  MatchParameters,
  MatchResult,
  Matcher,
  ScoredPairs,
} from './api.js';
import { chooseSets } from './active.js';
import { AUDIT_SET_PREFIX, AUDIT_SET_ROWS, auditDrawnRow, auditFloor, auditScan, auditSetCount, auditSetId, auditSets, isAuditSet, type AuditSet } from './audit.js';
import {
  allocateNeighbours,
  blockingRecall,
  buildKeyIndex,
  candidatesWithin,
  firstEqualRows,
  hasPair,
  collectCandidates,
  type Candidates,
} from './blocking.js';
import { clusterPairs, scoredOncePerEqualRows, type ClusterOutput } from './cluster.js';
import { PairExplainer } from './explain.js';
import { planFeatures, type Feature } from './features.js';
import { matchIncrement } from './incremental.js';
import { labeledPairs, rowIndexByKey, type LabeledPairs } from './labels.js';
import { auditedEstimate, estimateOnCandidates, type AuditSample } from './estimate.js';
import { areaUnderPR, confusionAt, maxF1, precisionRecallCurve } from './metrics.js';
import { tradeoffThreshold } from './model.js';
import { newShareId, ThreadPool, type SharedTable } from './parallel.js';
import { columnJobs, type PreparedTable } from './profile.js';
import { sharedFloat32, sharedUint32 } from './shared.js';
import { PairScorer } from './scoring.js';
import { blockingWeights, scoringModelOf, train, type Trained } from './training.js';
import { captureState, extendState, hashStrings, preparedOf, stateProblem, type IncrementalState, type StoredModel } from './state.js';

export interface MatcherOptions {
  /** Worker threads for blocking and scoring (default: the machine's parallelism; 1 = none). */
  threads?: number;
  /**
   * Candidate pairs scored to choose labeling sets and to estimate the evaluation metrics: above
   * this many, a uniform sample of this size stands for all of them (default 1,000,000).
   */
  sampleSize?: number;
}

interface Prepared {
  shared: SharedTable;
  features: Feature[];
  /** The last trained model, keyed by the labels and seed it was trained on. */
  lastTrained?: { key: string; trained: Trained; lp: LabeledPairs; audit: LabeledPairs };
  /** The last candidate set, keyed by the model key and AccuracyCostTradeoff. */
  lastBlocked?: { key: string; cand: Candidates };
  /** Scores of the last candidate set: all of them, or a sample. */
  lastScored?: { key: string; scored: Scored };
  /**
   * The output's groups of the last fully scored candidate set, keyed by its scores' key, the
   * threshold and which labels were enforced: a round's evaluation groups the rows as its
   * find-matches run will, and the run reuses them.
   */
  lastGrouped?: { key: string; groups: ClusterOutput };
  /** Per row, the first row equal to it in every compared column (firstEqualRows): blocking's exact duplicates, clustering's scorer. */
  firstEqual?: Int32Array;
}

/** Probabilities of candidate pairs: `index` (ascending) names them, or all pairs when absent. */
interface Scored {
  index?: Uint32Array;
  p: Float32Array;
  /** Pairs that needed the full model (the rest the prefilter settled). */
  fullyScored: number;
}

const tradeoff = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 0.5 : Math.min(1, Math.max(0, v)));

/** Progress of one engine call as a list of stages with relative weights. */
class Stages {
  #done = 0;
  readonly #total: number;
  constructor(
    private readonly run: EngineRun | undefined,
    private readonly weights: Record<string, number>,
  ) {
    this.#total = Object.values(weights).reduce((s, w) => s + w, 0);
  }

  /** Reports `message` at `fraction` of stage `stage`. */
  report(stage: string, message: string, fraction = 0): void {
    const before = this.#before(stage);
    this.run?.progress?.(message, Math.min(1, (before + (this.weights[stage] ?? 0) * fraction) / this.#total));
  }

  #before(stage: string): number {
    let s = 0;
    for (const [name, w] of Object.entries(this.weights)) {
      if (name === stage) return s;
      s += w;
    }
    return this.#done;
  }
}

export function createMatcher(options: MatcherOptions = {}): Matcher {
  const pool = new ThreadPool(options.threads);
  const sampleSize = Math.max(1, options.sampleSize ?? 1_000_000);
  const cache = new WeakMap<EngineTable, Prepared>();

  async function prepare(table: EngineTable, stages: Stages): Promise<Prepared> {
    let p = cache.get(table);
    if (!p) {
      stages.report('prepare', `preparing columns of ${table.rowCount} rows`);
      const pt = await prepareColumns(table, stages);
      p = { shared: { id: newShareId(), table: pt }, features: planFeatures(pt) };
      cache.set(table, p);
    }
    return p;
  }

  /** The prepared columns of a table, not cached. */
  async function prepareColumns(table: EngineTable, stages: Stages): Promise<PreparedTable> {
    const { jobs, codes } = columnJobs(table);
    const columns = await pool.prepareColumns(jobs, (done) =>
      stages.report('prepare', `preparing columns of ${table.rowCount} rows: ${done} of ${jobs.length} done`, done / jobs.length),
    );
    return { rowCount: table.rowCount, columns, codes };
  }

  function trainOn(table: EngineTable, labels: readonly EngineLabel[], params: MatchParameters, prep: Prepared, stages: Stages) {
    const seed = params.seed ?? 0;
    const key = modelKey(labels, params);
    if (prep.lastTrained?.key !== key) {
      // Audit sets are held out of training: they measure the model (audit.ts).
      const byKey = rowIndexByKey(table, labels.map((l) => l.key));
      const lp = labeledPairs(table, labels.filter((l) => !isAuditSet(l.labelingSetId)), byKey);
      const audit = labeledPairs(table, labels.filter((l) => isAuditSet(l.labelingSetId)), byKey, auditDrawnRow);
      stages.report('train', `training on ${lp.y.length} labeled pairs`);
      prep.lastTrained = { key, trained: train(prep.shared.table, prep.features, lp, seed), lp, audit };
    }
    const { trained, lp, audit } = prep.lastTrained;
    const threshold = tradeoffThreshold(trained.baseThreshold, tradeoff(params.precisionRecallTradeoff), trained.oof);
    return { key, trained, lp, audit, threshold };
  }

  async function block(prep: Prepared, modelKey: string, trained: Trained, params: MatchParameters, stages: Stages, run?: EngineRun) {
    const act = tradeoff(params.accuracyCostTradeoff);
    const key = `${modelKey}\u0002${act}`;
    if (prep.lastBlocked?.key === key) return prep.lastBlocked.cand;
    const pt = prep.shared.table;
    stages.report('block', `indexing blocking keys of ${pt.rowCount} rows`);
    const index = buildKeyIndex(pt, { accuracyCostTradeoff: act, columnWeights: blockingWeights(trained) });
    const lists = allocateNeighbours(pt.rowCount, index.k);
    const shared = { id: newShareId(), index };
    await pool.runRanges(
      pt.rowCount,
      (from, to) => ({ kind: 'neighbours', table: prep.shared, index: shared, out: lists, from, to }),
      {
        signal: run?.signal,
        inlineBelow: 20_000,
        onChunk: (done) => stages.report('block', `finding neighbours: ${done} of ${pt.rowCount} rows`, (0.9 * done) / pt.rowCount),
      },
    );
    stages.report('block', 'collecting candidate pairs', 0.9);
    // Clustering's scorer (groupRows) takes the same equal rows.
    const cand = collectCandidates(pt, lists, (prep.firstEqual ??= firstEqualRows(pt)));
    prep.lastBlocked = { key, cand };
    delete prep.lastScored;
    return cand;
  }

  /** Scores every candidate pair, or (`sample`) a uniform sample of at most sampleSize of them. */
  async function score(prep: Prepared, key: string, cand: Candidates, trained: Trained, sample: boolean, stages: Stages, run?: EngineRun): Promise<Scored> {
    const m = cand.a.length;
    const last = prep.lastScored;
    if (last?.key === key && (!last.scored.index || (sample && m > sampleSize))) return last.scored;
    let a = cand.a, b = cand.b, index: Uint32Array | undefined;
    if (sample && m > sampleSize) {
      index = sharedUint32(sampleSize);
      a = sharedUint32(sampleSize);
      b = sharedUint32(sampleSize);
      for (let j = 0; j < sampleSize; j++) {
        const i = Math.floor((j * m) / sampleSize);
        index[j] = i;
        a[j] = cand.a[i]!;
        b[j] = cand.b[i]!;
      }
    }
    const total = a.length;
    const p = sharedFloat32(total);
    const model = scoringModelOf(trained);
    const what = index ? `a sample of ${total} of ${m} candidate pairs` : `${m} candidate pairs`;
    stages.report('score', `scoring ${what}`);
    const fullyScored = await pool.runRanges(
      total,
      (from, to) => ({ kind: 'score', table: prep.shared, features: prep.features, model, a, b, out: p, outOffset: 0, from, to }),
      {
        signal: run?.signal,
        onChunk: (done) => stages.report('score', `scoring ${what}: ${done} done`, done / total),
      },
    );
    const scored: Scored = index ? { index, p, fullyScored } : { p, fullyScored };
    prep.lastScored = { key, scored };
    return scored;
  }

  async function fit(
    table: EngineTable,
    labels: readonly EngineLabel[],
    params: MatchParameters,
    scoring: 'all' | 'sample' | 'none',
    stages: Stages,
    run?: EngineRun,
    matchedRows = table.rowCount,
  ) {
    const prep = await prepare(table, stages);
    run?.signal?.throwIfAborted();
    const { key, trained, lp, audit, threshold } = trainOn(table, labels, params, prep, stages);
    run?.signal?.throwIfAborted();
    const blocked = await block(prep, key, trained, params, stages, run);
    const cand = matchedRows < table.rowCount ? candidatesWithin(blocked, matchedRows) : blocked;
    const scoreKey = `${key}\u0002${tradeoff(params.accuracyCostTradeoff)}\u0002${matchedRows}`;
    const scored = scoring === 'none' ? undefined : await score(prep, scoreKey, cand, trained, scoring === 'sample', stages, run);
    return { prep, trained, lp, audit, threshold, cand, scoreKey, scored };
  }

  /** Audit sets (audit.ts): random rows scanned against the table with the current model. */
  async function chooseAuditSets(
    f: { prep: Prepared; trained: Trained; threshold: number },
    count: number,
    seed: number,
    run?: EngineRun,
  ): Promise<AuditSet[]> {
    const { prep, trained, threshold } = f;
    const n = prep.shared.table.rowCount;
    if (count === 0 || n < 2) return [];
    const scan = auditScan(n, count, seed);
    const { a, b } = scan;
    const p = sharedFloat32(a.length);
    const model = scoringModelOf(trained);
    await pool.runRanges(a.length, (from, to) => ({ kind: 'score', table: prep.shared, features: prep.features, model, a, b, out: p, outOffset: 0, from, to }), { signal: run?.signal });
    return auditSets(scan, p, auditFloor(threshold), count);
  }

  /**
   * The output's groups: every candidate pair scored (`probs`), those at or above the threshold
   * merged by clustering; `enforced` names the labels `constraints` come from.
   */
  function groupRows(
    f: { prep: Prepared; trained: Trained; threshold: number; cand: Candidates; scoreKey: string },
    probs: Float32Array,
    enforced: 'none' | 'training' | 'all',
    constraints: ReturnType<typeof labelConstraints> | undefined,
  ): ClusterOutput {
    const key = `${f.scoreKey}\u0003${f.threshold}\u0003${enforced}`;
    if (f.prep.lastGrouped?.key === key) return f.prep.lastGrouped.groups;
    const pt = f.prep.shared.table;
    const score = scoredOncePerEqualRows(scoreWithCandidates(f.cand, probs, new PairScorer(pt, f.prep.features, scoringModelOf(f.trained))), (f.prep.firstEqual ??= firstEqualRows(pt)));
    const groups = clusterPairs({
      n: f.prep.shared.table.rowCount,
      a: f.cand.a,
      b: f.cand.b,
      p: probs,
      threshold: f.threshold,
      score,
      ...(constraints ? { mustLink: constraints.must, cannotLink: constraints.cannot } : {}),
    });
    f.prep.lastGrouped = { key, groups };
    return groups;
  }

  return {
    async generateLabelingSets(table, labels, params, options) {
      const stages = new Stages(options, { prepare: 3, train: 1, block: 3, score: 3, choose: 1 });
      const f = await fit(table, labels, params, 'sample', stages, options);
      stages.report('choose', 'choosing labeling sets');
      const wanted = options.sets ?? 10, targetRows = options.targetRows ?? 100;
      // Audit sets are extra: active learning sees neither their labels nor their rows, so it
      // chooses exactly what it would without them.
      const seed = (params.seed ?? 0) + f.lp.labelCount;
      // Without a trained model (the first round) "most likely partners" would be the prior model's guess, and
      // scoring a million rows' scans without the prefilter costs more than the whole round.
      const audits = f.trained.supervised ? await chooseAuditSets(f, auditSetCount(wanted), seed, options) : [];
      const active = chooseSets({
        n: table.rowCount,
        cand: f.cand,
        ...(f.trained.supervised && f.scored ? { scored: { index: f.scored.index ?? allIndexes(f.scored.p.length), p: f.scored.p } } : {}),
        threshold: f.threshold,
        labeledRows: f.lp.labeledRows,
        sets: wanted,
        targetRows,
        seed,
      });
      const sets = [...active.map((rows) => ({ rows, prefix: 'set-', drawn: [] as number[] })), ...audits.map((a) => ({ ...a, prefix: AUDIT_SET_PREFIX }))];
      const scorer = new PairScorer(f.prep.shared.table, f.prep.features, scoringModelOf(f.trained));
      const score = (x: number, y: number) => scorer.score(x, y);
      const existing = new Set(labels.map((l) => l.labelingSetId));
      // Each kind numbered on from its own sets, so audits never shift the active sets' ids.
      const counters = new Map<string, number>();
      for (const id of existing) {
        const prefix = isAuditSet(id) ? AUDIT_SET_PREFIX : 'set-';
        counters.set(prefix, (counters.get(prefix) ?? 0) + 1);
      }
      const out: LabelingSet[] = [];
      const pk = table.columns[table.primaryKey]!;
      for (const { rows, prefix, drawn } of sets) {
        let id: string;
        let counter = counters.get(prefix) ?? 0;
        do {
          counter++;
          // An audit set's id names its rows drawn at random (auditSets).
          id = prefix === AUDIT_SET_PREFIX ? auditSetId(counter, drawn.map((r) => pk.values[pk.codes[r]!]!)) : `set-${String(counter).padStart(4, '0')}`;
        } while (existing.has(id));
        counters.set(prefix, counter);
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
      const stages = new Stages(run, { prepare: 3, train: 1, block: 3, score: 3 });
      const f = await fit(table, labels, params, 'sample', stages, run);
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
        const curve = precisionRecallCurve(oof.p, oof.y, f.threshold);
        if (curve) res.precisionRecallCurve = curve;
        const heldOut: HeldOutMetrics = {};
        const mf = maxF1(oof.p, oof.y);
        if (mf !== undefined) heldOut.f1 = mf;
        if (cm.numTruePositives + cm.numFalsePositives > 0)
          heldOut.precision = cm.numTruePositives / (cm.numTruePositives + cm.numFalsePositives);
        if (cm.numTruePositives + cm.numFalseNegatives > 0)
          heldOut.recall = cm.numTruePositives / (cm.numTruePositives + cm.numFalseNegatives);
        res.heldOut = heldOut;
        // Precision, recall and F1 are what the output is expected to score (estimate.ts), from the
        // scores of the run's candidates (a uniform sample of them on a large table: the estimates
        // are ratios, so the sample's share stands for the whole), all three at the threshold the
        // PrecisionRecallTradeoff sets: the output is cut there, so an F1 taken at any other
        // threshold would promise what no run delivers.
        const cal = f.trained.calibration;
        const probs = f.scored?.p;
        let est = cal && probs ? estimateOnCandidates(probs, cal, f.threshold, br) : {};
        // The audit's pairs are held out of training, so the output's groups here enforce only the training labels.
        const groups = f.audit.y.length > 0 && probs && !f.scored?.index
          ? groupRows(f, probs, params.enforceProvidedLabels ? 'training' : 'none', params.enforceProvidedLabels ? labelConstraints(f.lp) : undefined).cluster
          : undefined;
        const audit = auditSample(f, groups);
        if (audit) est = auditedEstimate(est, audit, br);
        if (est.blockingRecall !== undefined) res.blockingRecall = est.blockingRecall;
        if (est.auditPairs) res.auditPairs = est.auditPairs;
        const precision = est.precision ?? heldOut.precision;
        const recall = est.recall ?? heldOut.recall;
        const f1 = est.f1 ?? (precision !== undefined && recall !== undefined && precision + recall > 0
          ? (2 * precision * recall) / (precision + recall)
          : undefined);
        if (precision !== undefined) res.precision = precision;
        if (recall !== undefined) res.recall = recall;
        if (f1 !== undefined) res.f1 = f1;
      }
      return res;
    },

    async candidatePairs(table, labels, params, run) {
      const stages = new Stages(run, { prepare: 3, train: 1, block: 3 });
      const f = await fit(table, labels, params, 'none', stages, run);
      return { a: f.cand.a, b: f.cand.b } satisfies CandidatePairs;
    },

    async findMatches(table, labels, params, run?: FindMatchesRun) {
      const stages = new Stages(run, { prepare: 3, train: 1, block: 3, score: 6, cluster: 1 });
      const elsewhere = run?.scoreElsewhere;
      const matchedRows = run?.matchedRows ?? table.rowCount;
      if (!Number.isSafeInteger(matchedRows) || matchedRows < 0 || matchedRows > table.rowCount) {
        throw new RangeError(`matchedRows ${matchedRows} is not a row count of a table of ${table.rowCount} rows`);
      }
      const onlyLabeled = table.rowCount - matchedRows;
      const f = await fit(table, labels, params, elsewhere ? 'none' : 'all', stages, run, matchedRows);
      let scored = f.scored!;
      if (elsewhere) {
        stages.report('score', `scoring ${f.cand.a.length} candidate pairs elsewhere`);
        const model = { key: hashStrings(() => modelKey(labels, params), 1), trained: storedModel(f.trained) };
        const { p, fullyScored } = await elsewhere({ state: captureState(table, f.prep.shared.table, model), pairs: { a: f.cand.a, b: f.cand.b } });
        if (p.length !== f.cand.a.length) throw new Error(`${p.length} probabilities were handed back for ${f.cand.a.length} candidate pairs`);
        scored = { p, fullyScored };
        f.prep.lastScored = { key: f.scoreKey, scored };
      }
      run?.signal?.throwIfAborted();
      stages.report('cluster', 'grouping matches');
      const probs = scored.p;
      // Labels join only rows that are matched: a row there for its label alone stays by itself.
      const constraints = params.enforceProvidedLabels ? labelConstraints(f.lp, f.audit) : undefined;
      if (constraints && onlyLabeled > 0) {
        const within = ([x, y]: [number, number]) => x < matchedRows && y < matchedRows;
        constraints.must = constraints.must.filter(within);
        constraints.cannot = constraints.cannot.filter(within);
      }
      const cl = groupRows(f, probs, params.enforceProvidedLabels ? 'all' : 'none', constraints);
      const matchId = new Float64Array(matchedRows);
      for (let r = 0; r < matchedRows; r++) matchId[r] = cl.cluster[r]!;
      let matched = 0;
      for (let i = 0; i < probs.length; i++) if (probs[i]! >= f.threshold) matched++;
      const explainer = new PairExplainer(f.prep.shared.table, f.prep.features, f.trained.model);
      return {
        matchId,
        // A copy: the groups stay cached for the next call.
        confidence: cl.confidence.slice(0, matchedRows),
        stats: {
          candidatePairs: f.cand.a.length,
          scoredPairs: probs.length,
          fullyScoredPairs: scored.fullyScored,
          matchedPairs: matched,
          // Rows there for their labels alone are groups of their own, not in the result.
          groups: cl.groups - onlyLabeled,
        },
        explainPair: (a: number, b: number) => explainer.explain(a, b),
        // The state stands for every row of the table it was prepared from.
        ...(onlyLabeled === 0
          ? { state: () => captureState(table, f.prep.shared.table, { key: hashStrings(() => modelKey(labels, params), 1), trained: storedModel(f.trained) }) }
          : {}),
      } satisfies MatchResult;
    },

    async findIncrementalMatches(table, existing, labels, params, run) {
      const stages = new Stages(run, { prepare: 3, train: 1, block: 2, score: 2, cluster: 1 });
      const e = existing.rows, added = table.rowCount - e;
      // The existing rows as a previous run prepared them (the state), or prepared now; then extended
      // by the new rows either way (state.ts), so both give the same result.
      const problem = existing.state ? stateProblem(existing.state, table, e) : 'none was given';
      const used = existing.state !== undefined && problem === undefined;
      const message = used
        ? `using the incremental state of the ${e} existing rows`
        : `not using an incremental state (${problem}): preparing the ${e} existing rows`;
      stages.report('prepare', message);
      const key = hashStrings(() => modelKey(labels, params), 1);
      let base: IncrementalState;
      if (used) base = existing.state!;
      else {
        // What the full run that grouped the existing rows kept: their prepared table and the model trained on it.
        const first: EngineTable = { columns: table.columns.map((c) => ({ ...c, codes: c.codes.subarray(0, e) })), primaryKey: table.primaryKey, rowCount: e };
        const firstPt = await prepareColumns(first, stages);
        run?.signal?.throwIfAborted();
        const firstPrep: Prepared = { shared: { id: newShareId(), table: firstPt }, features: planFeatures(firstPt) };
        base = captureState(table, firstPt, { key, trained: storedModel(trainOn(first, labels, params, firstPrep, stages).trained) });
      }
      run?.signal?.throwIfAborted();
      stages.report('prepare', `adding ${added} new rows to the prepared table`, 0.9);
      const { state, pt } = extendState(base, table);
      const prep: Prepared = { shared: { id: newShareId(), table: pt }, features: planFeatures(pt) };
      let trained: Trained, threshold: number;
      const stored = state.model;
      if (stored && stored.key[0] === key[0] && stored.key[1] === key[1]) {
        stages.report('train', used ? 'using the model stored with the incremental state' : 'using the model trained on the existing rows');
        trained = { ...stored.trained, pt, features: prep.features };
        threshold = tradeoffThreshold(trained.baseThreshold, tradeoff(params.precisionRecallTradeoff), trained.oof);
      } else {
        ({ trained, threshold } = trainOn(table, labels, params, prep, stages));
        state.model = { key, trained: storedModel(trained) };
      }
      run?.signal?.throwIfAborted();
      const result = await matchIncrement({
        pool,
        shared: prep.shared,
        features: prep.features,
        trained,
        threshold,
        accuracyCostTradeoff: tradeoff(params.accuracyCostTradeoff),
        existing,
        // As a full run enforces them: every label, the audit sets' too.
        ...(params.enforceProvidedLabels ? { labeled: labeledPairs(table, labels) } : {}),
        report: (stage, message, fraction) => stages.report(stage, message, fraction),
        ...(run?.signal ? { signal: run.signal } : {}),
      });
      return { ...result, state: () => state, stateUse: { used, message } };
    },

    async scorePairs(state, pairs, run): Promise<ScoredPairs> {
      if (!state.model) throw new Error('the state holds no trained model to score pairs with');
      const pt = preparedOf(state);
      const features = planFeatures(pt);
      const model = scoringModelOf({ ...state.model.trained, pt, features });
      const table = { id: newShareId(), table: pt };
      const n = pairs.a.length;
      const a = sharedUint32(n), b = sharedUint32(n), p = sharedFloat32(n);
      a.set(pairs.a);
      b.set(pairs.b);
      const fullyScored = await pool.runRanges(
        n,
        (from, to) => ({ kind: 'score', table, features, model, a, b, out: p, outOffset: 0, from, to }),
        { signal: run?.signal, onChunk: (done) => run?.progress?.(`scoring ${n} pairs: ${done} done`, done / n) },
      );
      return { p, fullyScored };
    },

    async explainPairs(table, pairs, labels, params, run) {
      const stages = new Stages(run, { prepare: 3, train: 1 });
      const prep = await prepare(table, stages);
      run?.signal?.throwIfAborted();
      const { trained } = trainOn(table, labels, params, prep, stages);
      const explainer = new PairExplainer(prep.shared.table, prep.features, trained.model);
      return pairs.map(([a, b]) => {
        if (!(a >= 0 && a < table.rowCount && b >= 0 && b < table.rowCount)) throw new RangeError(`no row pair (${a}, ${b}) in a table of ${table.rowCount} rows`);
        return explainer.explain(a, b);
      });
    },
  };
}

/** What a trained model is keyed by: the seed and every label. */
function modelKey(labels: readonly EngineLabel[], params: MatchParameters): string {
  return `${params.seed ?? 0}\u0000${labels.map((l) => `${l.labelingSetId}\u0001${l.label}\u0001${l.key}`).join('\u0000')}`;
}

/** The trained model without its table (the incremental state stores it). */
function storedModel(trained: Trained): StoredModel {
  const { pt: _pt, features: _features, ...rest } = trained;
  return rest;
}

/**
 * A pair scorer for clustering's average linkage: most pairs it asks about are candidates and
 * already scored, so their probability is looked up among the lower row's candidates (sorted by
 * the higher row: a binary search, since the first row of a large group of identical rows is
 * paired with each of them); others are scored on demand.
 */
function scoreWithCandidates(cand: Candidates, probs: Float32Array, scorer: PairScorer): (x: number, y: number) => number {
  const n = cand.nbrOffsets.length - 1;
  const firstOf = new Uint32Array(n + 1);
  for (let i = 0; i < cand.a.length; i++) firstOf[cand.a[i]! + 1]!++;
  for (let r = 0; r < n; r++) firstOf[r + 1] = firstOf[r + 1]! + firstOf[r]!;
  return (x, y) => {
    const lo = Math.min(x, y), hi = Math.max(x, y);
    let from = firstOf[lo]!, to = firstOf[lo + 1]!;
    while (from < to) {
      const mid = (from + to) >>> 1;
      const b = cand.b[mid]!;
      if (b === hi) return probs[mid]!;
      if (b < hi) from = mid + 1;
      else to = mid;
    }
    return scorer.score(x, y);
  };
}

function labelConstraints(...labeled: LabeledPairs[]) {
  const must: Array<[number, number]> = [], cannot: Array<[number, number]> = [];
  for (const lp of labeled) for (let i = 0; i < lp.y.length; i++) (lp.y[i] ? must : cannot).push([lp.a[i]!, lp.b[i]!]);
  return { must, cannot };
}

function allIndexes(m: number): Uint32Array {
  const index = new Uint32Array(m);
  for (let i = 0; i < m; i++) index[i] = i;
  return index;
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

/**
 * The audit's pairs: whether they match, whether blocking proposes them, whether the output joins
 * them (puts both rows in one group; the model never saw them), and whether both rows' groups fit
 * in an audit set. Without the output's groups (on a large table the candidates are only sampled
 * here) a pair is joined when it is a candidate at or above the threshold, and every pair counts as
 * fitting.
 */
function auditSample(
  f: { prep: Prepared; trained: Trained; audit: LabeledPairs; threshold: number; cand: Candidates },
  group: ArrayLike<number> | undefined,
): AuditSample | undefined {
  const { audit } = f;
  if (audit.y.length === 0) return undefined;
  // Only without the output's groups does a pair's own score decide.
  const scorer = group ? undefined : new PairScorer(f.prep.shared.table, f.prep.features, scoringModelOf(f.trained));
  // Rows the output puts in groups larger than an audit set can show.
  let size: Uint32Array | undefined;
  if (group) {
    size = new Uint32Array(group.length);
    for (let r = 0; r < group.length; r++) size[group[r]!]!++;
  }
  const y: number[] = [], candidate: number[] = [], joined: number[] = [], fits: number[] = [];
  for (let i = 0; i < audit.y.length; i++) {
    const a = audit.a[i]!, b = audit.b[i]!;
    fits.push(!size || Math.max(size[group![a]!]!, size[group![b]!]!) <= AUDIT_SET_ROWS ? 1 : 0);
    const isCandidate = hasPair(f.cand, a, b);
    y.push(audit.y[i]!);
    candidate.push(isCandidate ? 1 : 0);
    joined.push((group ? group[a] === group[b] : isCandidate && scorer!.score(a, b) >= f.threshold) ? 1 : 0);
  }
  return { y, candidate, joined, fits };
}

