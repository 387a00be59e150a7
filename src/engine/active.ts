/**
 * Active learning: choose labeling sets. With a supervised model, seed sets on the candidate
 * pairs whose probability is closest to the decision threshold (in log-odds); cold start (no
 * model) seeds on random records. Each set is its seed pair/record plus their best blocking
 * neighbours (likely matches and near misses), never reusing a labeled or already chosen row,
 * so sets are diverse and never repeat a labeled group. A share of sets always comes from
 * random seeds to explore what the model has not seen.
 */
import type { Candidates } from './blocking.js';
import { makeRng } from './rng.js';

export interface ActiveInput {
  n: number;
  cand: Candidates;
  /**
   * Scored candidate pairs (indexes into `cand`, ascending) and their probabilities; undefined at
   * cold start. On a large table a uniform sample of the candidates is enough to find the pairs
   * the model is least sure of.
   */
  scored?: { index: Uint32Array; p: Float32Array };
  threshold: number;
  labeledRows: ReadonlySet<number>;
  sets: number;
  targetRows: number;
  seed: number;
}

export function chooseSets(inp: ActiveInput): number[][] {
  const { n, cand } = inp;
  const rng = makeRng(inp.seed ^ 0xa11ce);
  const size = Math.max(2, Math.round(inp.targetRows / Math.max(1, inp.sets)));
  const used = new Uint8Array(n);
  for (const r of inp.labeledRows) if (r < n) used[r] = 1;
  const out: number[][] = [];
  const grow = (seedRows: number[], limit = size, minRows = 2): number[] | undefined => {
    const set: number[] = [];
    for (const r of seedRows) if (!used[r] && !set.includes(r)) set.push(r);
    if (set.length === 0) return undefined;
    // Breadth-first over neighbour lists, best neighbours first.
    for (let q = 0; q < set.length && set.length < limit; q++) {
      const r = set[q]!;
      for (let i = cand.nbrOffsets[r]!; i < cand.nbrOffsets[r + 1]! && set.length < limit; i++) {
        const s = cand.nbrs[i]!;
        if (!used[s] && !set.includes(s)) set.push(s);
        if (q === 0 && set.length >= Math.ceil(limit * 0.6)) break; // leave room for the partner's neighbours
      }
    }
    if (set.length < minRows) return undefined;
    for (const r of set) used[r] = 1;
    return set;
  };
  const explore = inp.scored ? Math.max(1, Math.round(inp.sets * 0.2)) : inp.sets;
  if (inp.scored) {
    for (const i of leastCertain(inp.scored, inp.threshold)) {
      if (out.length >= inp.sets - explore) break;
      const a = cand.a[i]!, b = cand.b[i]!;
      if (used[a] || used[b]) continue;
      const s = grow([a, b]);
      if (s) out.push(s);
    }
  }
  // Without a model every set joins two neighbourhoods. One neighbourhood alone is often a single
  // entity (a paper cited 50 times): labels of such sets are nearly all matches and the first model
  // learns that everything matches. The pairs across the two halves give it non-matches to learn from.
  const coldStart = !inp.scored;
  let half: number[] | undefined;
  for (const r of explorationRows(n, cand, rng)) {
    if (out.length >= inp.sets) break;
    if (used[r]) continue;
    if (!coldStart) {
      const s = grow([r]);
      if (s) out.push(s);
      continue;
    }
    if (!half) {
      half = grow([r], Math.ceil(size / 2), 1);
      continue;
    }
    const other = grow([r], size - half.length, 1);
    if (other) {
      out.push([...half, ...other]);
      half = undefined;
    }
  }
  if (half && half.length >= 2 && out.length < inp.sets) out.push(half);
  return out;
}

/** Pairs the model is least sure about seeds enough sets; this many is far more than a round uses. */
const UNCERTAIN_POOL = 50_000;

/**
 * Candidate indexes by distance of their score from the threshold in log-odds, closest first (ties:
 * candidate order); only the closest UNCERTAIN_POOL (and their ties) are ordered.
 */
function leastCertain(scored: { index: Uint32Array; p: Float32Array }, threshold: number): number[] {
  const lt = Math.log(threshold / (1 - threshold));
  const m = scored.p.length;
  const u = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const p = Math.min(1 - 1e-9, Math.max(1e-9, scored.p[j]!));
    u[j] = Math.abs(Math.log(p / (1 - p)) - lt);
  }
  if (m === 0) return [];
  const cutoff = Float64Array.from(u).sort()[Math.min(m, UNCERTAIN_POOL) - 1]!;
  const picked: number[] = [];
  for (let j = 0; j < m; j++) if (u[j]! <= cutoff) picked.push(j);
  picked.sort((x, y) => u[x]! - u[y]! || x - y);
  return picked.map((j) => scored.index[j]!);
}

/**
 * Exploration seeds, alternating: a record from the quarter with the most similar neighbour
 * (likely matches) and a random record, each list in random order.
 */
function* explorationRows(n: number, cand: Candidates, rng: () => number): Generator<number> {
  const top = new Float64Array(n);
  for (let i = 0; i < cand.a.length; i++) {
    const s = cand.score[i]!;
    if (s > top[cand.a[i]!]!) top[cand.a[i]!] = s;
    if (s > top[cand.b[i]!]!) top[cand.b[i]!] = s;
  }
  const quarter = Math.max(1, Math.floor(n / 4));
  const cutoff = n === 0 ? 0 : Float64Array.from(top).sort()[n - quarter]!;
  const likely = new Uint32Array(quarter);
  let k = 0;
  for (let r = 0; r < n && k < quarter; r++) if (top[r]! > cutoff) likely[k++] = r;
  for (let r = 0; r < n && k < quarter; r++) if (top[r] === cutoff) likely[k++] = r;
  shuffleInPlace(likely.subarray(0, k), rng);
  const randomRows = new Uint32Array(n);
  for (let r = 0; r < n; r++) randomRows[r] = r;
  shuffleInPlace(randomRows, rng);
  for (let i = 0; i < Math.max(k, n); i++) {
    if (i < k) yield likely[i]!;
    if (i < n) yield randomRows[i]!;
  }
}

function shuffleInPlace(a: Uint32Array, rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
