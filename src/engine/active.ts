/**
 * Active learning: choose labeling sets. With a supervised model, seed sets on the candidate
 * pairs whose probability is closest to the decision threshold (in log-odds); cold start (no
 * model) seeds on random records. Each set is its seed pair/record plus their best blocking
 * neighbours (likely matches and near misses), never reusing a labeled or already chosen row,
 * so sets are diverse and never repeat a labeled group. A share of sets always comes from
 * random seeds to explore what the model has not seen.
 */
import type { Candidates } from './blocking.js';
import { makeRng, shuffle } from './rng.js';

export interface ActiveInput {
  n: number;
  cand: Candidates;
  /** Candidate probabilities (undefined at cold start). */
  p?: Float32Array;
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
  const explore = inp.p ? Math.max(1, Math.round(inp.sets * 0.2)) : inp.sets;
  if (inp.p) {
    const lt = Math.log(inp.threshold / (1 - inp.threshold));
    const m = cand.a.length;
    const u = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const p = Math.min(1 - 1e-9, Math.max(1e-9, inp.p[i]!));
      u[i] = Math.abs(Math.log(p / (1 - p)) - lt);
    }
    const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => u[x]! - u[y]! || x - y);
    for (const i of order) {
      if (out.length >= inp.sets - explore) break;
      const a = cand.a[i]!, b = cand.b[i]!;
      if (used[a] || used[b]) continue;
      const s = grow([a, b]);
      if (s) out.push(s);
    }
  }
  // Exploration seeds: half from records with a very similar neighbour (likely matches), half random.
  const top = new Float64Array(n);
  for (let i = 0; i < cand.a.length; i++) {
    const s = cand.score[i]!;
    if (s > top[cand.a[i]!]!) top[cand.a[i]!] = s;
    if (s > top[cand.b[i]!]!) top[cand.b[i]!] = s;
  }
  const byTop = Array.from({ length: n }, (_, i) => i).sort((x, y) => top[y]! - top[x]! || x - y);
  const likely = shuffle(byTop.slice(0, Math.max(1, Math.floor(n / 4))), rng);
  const randomRows = shuffle(Array.from({ length: n }, (_, i) => i), rng);
  const rows: number[] = [];
  for (let i = 0; i < Math.max(likely.length, randomRows.length); i++) {
    if (i < likely.length) rows.push(likely[i]!);
    if (i < randomRows.length) rows.push(randomRows[i]!);
  }
  // Without a model every set joins two neighbourhoods. One neighbourhood alone is often a single
  // entity (a paper cited 50 times): labels of such sets are nearly all matches and the first model
  // learns that everything matches. The pairs across the two halves give it non-matches to learn from.
  const coldStart = !inp.p;
  let half: number[] | undefined;
  for (const r of rows) {
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
