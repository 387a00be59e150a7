/**
 * A small gradient-boosted tree ensemble (log-loss, depth-limited regression trees on binned
 * features, shrinkage). Captures interactions the logistic model cannot (e.g. "name similar
 * AND birth year equal"), deterministic (no sampling).
 */

export interface Tree {
  /**
   * Internal nodes: feature, threshold (go left when x <= thr). Heap layout. Every node's value is
   * the Newton step of the training rows that reach it: a leaf's is its score, an internal node's
   * is what path attribution starts from (gbtContributions).
   */
  feature: Int32Array;
  threshold: Float32Array;
  value: Float32Array;
  depth: number;
}

export interface GbtModel {
  kind: 'gbt';
  base: number;
  rate: number;
  trees: Tree[];
  dim: number;
}

const BINS = 32;

export function fitGbt(X: Float32Array, y: Uint8Array, dim: number, opts: { trees?: number; depth?: number; rate?: number; minLeaf?: number } = {}): GbtModel {
  const n = y.length;
  const T = opts.trees ?? 50, depth = opts.depth ?? 3, rate = opts.rate ?? 0.2, minLeaf = opts.minLeaf ?? 5;
  // Bin features (values are similarities mostly in [0,1]; bin by rank-free fixed edges on [min,max]).
  const lo = new Float32Array(dim).fill(Infinity), hi = new Float32Array(dim).fill(-Infinity);
  for (let i = 0; i < n; i++) for (let f = 0; f < dim; f++) {
    const v = X[i * dim + f]!;
    if (v < lo[f]!) lo[f] = v;
    if (v > hi[f]!) hi[f] = v;
  }
  const bin = new Uint8Array(n * dim);
  for (let i = 0; i < n; i++) for (let f = 0; f < dim; f++) {
    const w = hi[f]! - lo[f]!;
    bin[i * dim + f] = w > 0 ? Math.min(BINS - 1, Math.floor(((X[i * dim + f]! - lo[f]!) / w) * BINS)) : 0;
  }
  const edge = (f: number, b: number) => lo[f]! + ((hi[f]! - lo[f]!) * (b + 1)) / BINS;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i]!;
  const base = Math.log((pos + 1) / (n - pos + 1));
  const F = new Float64Array(n).fill(base);
  const g = new Float64Array(n), h = new Float64Array(n);
  const node = new Int32Array(n);
  const trees: Tree[] = [];
  const nodes = (1 << (depth + 1)) - 1;
  const lambda = 1;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-F[i]!));
      g[i] = p - y[i]!;
      h[i] = Math.max(p * (1 - p), 1e-6);
      node[i] = 0;
    }
    const feature = new Int32Array(nodes).fill(-1);
    const threshold = new Float32Array(nodes);
    const value = new Float32Array(nodes);
    for (let d = 0; d < depth; d++) {
      const first = (1 << d) - 1, count = 1 << d;
      // One pass: histograms of every node at this level.
      const HG = new Float64Array(count * dim * BINS), HH = new Float64Array(count * dim * BINS);
      const HC = new Int32Array(count * dim * BINS);
      const sg = new Float64Array(count), sh = new Float64Array(count), sc = new Int32Array(count);
      for (let i = 0; i < n; i++) {
        const k = node[i]! - first;
        if (k < 0 || k >= count) continue;
        const gi = g[i]!, hi2 = h[i]!;
        sg[k] = sg[k]! + gi; sh[k] = sh[k]! + hi2; sc[k]!++;
        const base = k * dim * BINS, row = i * dim;
        for (let f = 0; f < dim; f++) {
          const o = base + f * BINS + bin[row + f]!;
          HG[o] = HG[o]! + gi; HH[o] = HH[o]! + hi2; HC[o]!++;
        }
      }
      const splitF = new Int32Array(count).fill(-1), splitB = new Int32Array(count);
      for (let k = 0; k < count; k++) {
        const nd = first + k;
        if (sc[k]! > 0) value[nd] = -sg[k]! / (sh[k]! + lambda);
        if (sc[k]! < 2 * minLeaf) continue;
        const parentScore = (sg[k]! * sg[k]!) / (sh[k]! + lambda);
        let bestGain = 1e-6, bestF = -1, bestB = -1;
        for (let f = 0; f < dim; f++) {
          const o = k * dim * BINS + f * BINS;
          let gl = 0, hl = 0, cl = 0;
          for (let b = 0; b < BINS - 1; b++) {
            gl += HG[o + b]!; hl += HH[o + b]!; cl += HC[o + b]!;
            if (cl < minLeaf) continue;
            if (sc[k]! - cl < minLeaf) break;
            const gr = sg[k]! - gl, hr = sh[k]! - hl;
            const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
            if (gain > bestGain) { bestGain = gain; bestF = f; bestB = b; }
          }
        }
        if (bestF < 0) continue;
        feature[nd] = bestF;
        threshold[nd] = edge(bestF, bestB);
        splitF[k] = bestF; splitB[k] = bestB;
      }
      for (let i = 0; i < n; i++) {
        const k = node[i]! - first;
        if (k < 0 || k >= count || splitF[k]! < 0) continue;
        node[i] = 2 * node[i]! + (bin[i * dim + splitF[k]!]! <= splitB[k]! ? 1 : 2);
      }
    }
    // Leaf values (Newton step) for every node that holds samples at the end; split nodes keep theirs.
    const sg = new Float64Array(nodes), sh = new Float64Array(nodes);
    for (let i = 0; i < n; i++) { sg[node[i]!] = sg[node[i]!]! + g[i]!; sh[node[i]!] = sh[node[i]!]! + h[i]!; }
    for (let nd = 0; nd < nodes; nd++) if (sh[nd]! > 0) value[nd] = -sg[nd]! / (sh[nd]! + lambda);
    const tree: Tree = { feature, threshold, value, depth };
    trees.push(tree);
    for (let i = 0; i < n; i++) F[i] = F[i]! + rate * value[node[i]!]!;
  }
  return { kind: 'gbt', base, rate, trees, dim };
}

export function gbtLogit(m: GbtModel, x: Float32Array, offset = 0): number {
  let z = m.base;
  for (const t of m.trees) {
    let nd = 0;
    for (;;) {
      const f = t.feature[nd]!;
      if (f < 0) break;
      nd = 2 * nd + (x[offset + f]! <= t.threshold[nd]! ? 1 : 2);
    }
    z += m.rate * t.value[nd]!;
  }
  return z;
}

/**
 * Path attribution (Saabas): along each tree's path, the change of node value at a split is
 * credited to the split's feature. Writes each feature's share of the log-odds to out[0 .. dim)
 * and returns the rest (base plus every root's value): that plus the shares is gbtLogit.
 */
export function gbtContributions(m: GbtModel, x: Float32Array, offset: number, out: Float64Array): number {
  out.fill(0, 0, m.dim);
  let bias = m.base;
  for (const t of m.trees) {
    let nd = 0;
    bias += m.rate * t.value[0]!;
    for (;;) {
      const f = t.feature[nd]!;
      if (f < 0) break;
      const child = 2 * nd + (x[offset + f]! <= t.threshold[nd]! ? 1 : 2);
      out[f] = out[f]! + m.rate * (t.value[child]! - t.value[nd]!);
      nd = child;
    }
  }
  return bias;
}
