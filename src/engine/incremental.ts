/**
 * Incremental matching: rows added to a table that a previous run already grouped are matched
 * against it, and the previous grouping is kept. The work that grows with pairs (the neighbour
 * search, scoring, clustering) is done for the new rows only:
 *
 * - blocking searches neighbours from the new rows only, among every row (blocking.ts
 *   buildSearchIndex: the whole table's key frequencies and weights, posting lists of the keys the
 *   new rows walk), so the candidates are the pairs with a new row: its top-k neighbours and its
 *   exact duplicates. A pair an existing row would have proposed (the new row among its top-k, it
 *   not among the new row's) is not searched;
 * - only those pairs are scored;
 * - clustering (cluster.ts) runs on the new rows and the members of the existing groups some new
 *   row matches, with those groups fixed: each starts merged, counted at its confidence, and no
 *   merge joins two of them. A new row matching several existing groups joins the first its best
 *   edges reach (edges are merged best first, a group only at average linkage ≥ threshold) and is
 *   reported as a conflict;
 * - existing rows keep their ids; a group of new rows only gets a fresh id above every existing id.
 *
 * The prepared table comes from the incremental state (state.ts: the previous run's, extended by
 * the new rows).
 */
import type { BridgeConflict, ExistingMatches, IncrementalMatchResult } from './api.js';
import { allocateNeighbours, buildSearchIndex, collectCandidates, firstEqualRows } from './blocking.js';
import { clusterPairs, scoredOncePerEqualRows } from './cluster.js';
import { PairExplainer } from './explain.js';
import type { Feature } from './features.js';
import { newShareId, type SharedTable, type ThreadPool } from './parallel.js';
import { PairScorer } from './scoring.js';
import { sharedFloat32, sharedUint32 } from './shared.js';
import { blockingWeights, scoringModelOf, type Trained } from './training.js';

export interface IncrementalInput {
  pool: ThreadPool;
  shared: SharedTable;
  features: Feature[];
  trained: Trained;
  threshold: number;
  accuracyCostTradeoff: number;
  existing: ExistingMatches;
  /**
   * Labeled pairs of table rows to enforce (EnforceProvidedLabels): a pair with a new row labeled a
   * match is grouped (a new row joins the existing group it is labeled with), one labeled a
   * non-match is kept apart. Pairs of existing rows are the previous runs' to enforce.
   */
  labeled?: { a: readonly number[]; b: readonly number[]; y: readonly number[] };
  /** Progress within the stages block, score and cluster. */
  report: (stage: 'block' | 'score' | 'cluster', message: string, fraction?: number) => void;
  signal?: AbortSignal;
}

/** Pairs sampled per existing group to estimate its confidence when the previous output has none. */
const CONFIDENCE_PAIRS = 64;

export async function matchIncrement(inp: IncrementalInput): Promise<Omit<IncrementalMatchResult, 'stateUse'>> {
  const { pool, shared, features, trained, threshold, existing, report, signal } = inp;
  const pt = shared.table;
  const n = pt.rowCount, e = existing.rows;
  if (!Number.isInteger(e) || e < 0 || e > n || existing.matchId.length !== e) {
    throw new RangeError(`existing matches must cover the first rows of the table: ${e} rows, ${existing.matchId.length} match ids, table of ${n}`);
  }
  const added = n - e;

  // Blocking: the whole table's keys, searched from the new rows (posting lists of the keys they walk only).
  report('block', `indexing the blocking keys the ${added} new rows walk`);
  const index = buildSearchIndex(pt, { accuracyCostTradeoff: inp.accuracyCostTradeoff, columnWeights: blockingWeights(trained) }, e);
  const search = { id: newShareId(), index };
  const lists = allocateNeighbours(n, index.k);
  await pool.runRanges(
    added,
    (from, to) => ({ kind: 'neighbours', table: shared, index: search, out: lists, from, to }),
    { signal, inlineBelow: 20_000, onChunk: (done) => report('block', `finding neighbours of ${done} of ${added} new rows`, (0.9 * done) / added) },
  );
  report('block', 'collecting candidate pairs', 0.9);
  const all = collectCandidates(pt, lists);
  // Pairs are (a < b): a pair holds a new row when b does. Existing rows' exact duplicates among themselves are dropped.
  let m = 0;
  for (let i = 0; i < all.b.length; i++) if (all.b[i]! >= e) m++;
  const a = sharedUint32(m), b = sharedUint32(m);
  for (let i = 0, j = 0; i < all.b.length; i++) {
    if (all.b[i]! < e) continue;
    a[j] = all.a[i]!;
    b[j++] = all.b[i]!;
  }

  const p = sharedFloat32(m);
  const model = scoringModelOf(trained);
  report('score', `scoring ${m} candidate pairs of ${added} new rows`);
  const fullyScored = await pool.runRanges(
    m,
    (from, to) => ({ kind: 'score', table: shared, features, model, a, b, out: p, outOffset: 0, from, to }),
    { signal, onChunk: (done) => report('score', `scoring ${m} candidate pairs of ${added} new rows: ${done} done`, done / m) },
  );
  signal?.throwIfAborted();

  report('cluster', 'grouping the new rows');
  const scorer = new PairScorer(pt, features, model);
  // Existing groups some new row matches (numbered as met), and the matched pairs reaching them.
  const touched = new Map<number, number>();
  let matched = 0, reaching = 0;
  for (let i = 0; i < m; i++) {
    if (p[i]! < threshold) continue;
    matched++;
    if (a[i]! >= e) continue;
    reaching++;
    const id = existing.matchId[a[i]!]!;
    if (!touched.has(id)) touched.set(id, touched.size);
  }
  // Labeled pairs with a new row; a match with an existing row touches its group.
  const must: Array<[number, number]> = [], cannot: Array<[number, number]> = [];
  const labeled = inp.labeled;
  if (labeled) {
    for (let i = 0; i < labeled.y.length; i++) {
      const x = Math.min(labeled.a[i]!, labeled.b[i]!), y = Math.max(labeled.a[i]!, labeled.b[i]!);
      if (y < e || x === y) continue;
      (labeled.y[i] ? must : cannot).push([x, y]);
      if (labeled.y[i] && x < e) {
        const id = existing.matchId[x]!;
        if (!touched.has(id)) touched.set(id, touched.size);
      }
    }
  }
  // Local rows: the new rows, then the members of the touched groups in row order; each group's
  // members' local indices in CSR form (two scans of the existing ids).
  const groups = touched.size;
  const memberOffsets = new Int32Array(groups + 1);
  for (let r = 0; r < e; r++) {
    const g = touched.get(existing.matchId[r]!);
    if (g !== undefined) memberOffsets[g + 1]!++;
  }
  for (let g = 0; g < groups; g++) memberOffsets[g + 1] = memberOffsets[g + 1]! + memberOffsets[g]!;
  const local = new Int32Array(added + memberOffsets[groups]!);
  for (let i = 0; i < added; i++) local[i] = e + i;
  const members = new Int32Array(memberOffsets[groups]!);
  const fill = memberOffsets.slice(0, groups);
  const group = new Int32Array(local.length).fill(-1);
  for (let r = 0, next = added; r < e; r++) {
    const g = touched.get(existing.matchId[r]!);
    if (g === undefined) continue;
    local[next] = r;
    group[next] = g;
    members[fill[g]!++] = next++;
  }
  const existingLocal = local.subarray(added);
  /** A row's local index, or undefined for an existing row of no touched group. */
  const localIndex = (r: number): number | undefined => {
    if (r >= e) return r - e;
    let lo = 0, hi = existingLocal.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, v = existingLocal[mid]!;
      if (v === r) return added + mid;
      if (v < r) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  };
  const toLocal = (r: number) => localIndex(r)!;
  const confidence = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    const of = members.subarray(memberOffsets[g]!, memberOffsets[g + 1]!);
    // The group's latest confidence: its most recently added record's (rows are in the order they were added).
    const known = existing.confidence?.[local[of[of.length - 1]!]!];
    confidence[g] = known !== undefined && Number.isFinite(known) ? known : meanPairScore(Int32Array.from(of, (i) => local[i]!), (x, y) => scorer.score(x, y));
  }
  const ea = new Uint32Array(matched), eb = new Uint32Array(matched), ep = new Float32Array(matched);
  for (let i = 0, j = 0; i < m; i++) {
    if (p[i]! < threshold) continue;
    ea[j] = toLocal(a[i]!);
    eb[j] = toLocal(b[i]!);
    ep[j++] = p[i]!;
  }
  const cl = clusterPairs({
    n: local.length,
    a: ea,
    b: eb,
    p: ep,
    threshold,
    // Linkage asks about pairs of local rows: candidates are looked up, the rest scored.
    score: scoredOncePerEqualRows((x, y) => {
      const gx = local[x]!, gy = local[y]!;
      const i = pairIndex(a, b, Math.min(gx, gy), Math.max(gx, gy));
      return i >= 0 ? p[i]! : scorer.score(gx, gy);
    }, firstEqualRows(pt, local)),
    fixed: { group, confidence },
    // A label with a row of an untouched existing group concerns no local row.
    mustLink: localPairs(must, localIndex),
    cannotLink: localPairs(cannot, localIndex),
  });

  const matchId = new Float64Array(n);
  matchId.set(existing.matchId);
  const conf = new Float64Array(n);
  if (existing.confidence) conf.set(existing.confidence);
  else conf.fill(Number.NaN, 0, e);
  let fresh = 0;
  for (let r = 0; r < e; r++) if (existing.matchId[r]! >= fresh) fresh = existing.matchId[r]! + 1;
  // A local cluster holding an existing group keeps that group's id; any other gets the next fresh id.
  const idOf = new Map<number, number>();
  for (let i = added; i < local.length; i++) idOf.set(cl.cluster[i]!, existing.matchId[local[i]!]!);
  const firstFresh = fresh;
  let joinedExisting = 0;
  for (let i = 0; i < local.length; i++) {
    const c = cl.cluster[i]!;
    let id = idOf.get(c);
    if (id === undefined) idOf.set(c, (id = fresh++));
    else if (i < added && id < firstFresh) joinedExisting++;
    matchId[local[i]!] = id;
    conf[local[i]!] = cl.confidence[i]!;
  }

  // Conflicts: the matched pairs of a new row with existing rows, by new row then group, the best
  // probability per group; a row reaching two or more groups bridges them.
  const reach = new Uint32Array(reaching);
  for (let i = 0, j = 0; i < m; i++) if (p[i]! >= threshold && a[i]! < e) reach[j++] = i;
  const groupOfPair = (i: number) => existing.matchId[a[i]!]!;
  reach.sort((x, y) => b[x]! - b[y]! || groupOfPair(x) - groupOfPair(y));
  const conflicts: BridgeConflict[] = [];
  for (let s = 0; s < reach.length; ) {
    const row = b[reach[s]!]!;
    const reached: BridgeConflict['groups'] = [];
    while (s < reach.length && b[reach[s]!] === row) {
      const id = groupOfPair(reach[s]!);
      let best = 0;
      for (; s < reach.length && b[reach[s]!] === row && groupOfPair(reach[s]!) === id; s++) best = Math.max(best, p[reach[s]!]!);
      reached.push({ matchId: id, probability: best });
    }
    if (reached.length < 2) continue;
    reached.sort((x, y) => y.probability - x.probability || x.matchId - y.matchId);
    conflicts.push({ row, matchId: matchId[row]!, groups: reached });
  }
  const explainer = new PairExplainer(pt, features, trained.model);

  return {
    matchId,
    confidence: conf,
    stats: {
      candidatePairs: m,
      scoredPairs: m,
      fullyScoredPairs: fullyScored,
      matchedPairs: matched,
      groups: distinctCount(existing.matchId) + fresh - firstFresh,
      newRows: added,
      joinedExisting,
    },
    conflicts,
    explainPair: (x, y) => explainer.explain(x, y),
  };
}

function localPairs(pairs: ReadonlyArray<[number, number]>, toLocal: (r: number) => number | undefined): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [x, y] of pairs) {
    const lx = toLocal(x), ly = toLocal(y);
    if (lx !== undefined && ly !== undefined) out.push([lx, ly]);
  }
  return out;
}

/** Index of pair (lo, hi) among pairs sorted by (a, b), or -1. */
function pairIndex(a: Uint32Array, b: Uint32Array, lo: number, hi: number): number {
  let from = 0, to = a.length - 1;
  while (from <= to) {
    const mid = (from + to) >> 1;
    const ma = a[mid]!, mb = b[mid]!;
    if (ma === lo && mb === hi) return mid;
    if (ma < lo || (ma === lo && mb < hi)) from = mid + 1;
    else to = mid - 1;
  }
  return -1;
}

/** The mean probability of a group's pairs (1 for a single row), over an even sample of at most CONFIDENCE_PAIRS of them. */
function meanPairScore(members: ArrayLike<number>, score: (x: number, y: number) => number): number {
  const s = members.length;
  const total = (s * (s - 1)) / 2;
  if (total === 0) return 1;
  const taken = Math.min(total, CONFIDENCE_PAIRS);
  let sum = 0;
  for (let t = 0; t < taken; t++) {
    // Pair number k of the upper triangle, row-major.
    let k = Math.floor((t * total) / taken), i = 0;
    while (k >= s - 1 - i) { k -= s - 1 - i; i++; }
    sum += score(members[i]!, members[i + 1 + k]!);
  }
  return sum / taken;
}

function distinctCount(ids: Float64Array): number {
  const sorted = ids.slice().sort();
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) count++;
  return count;
}
