/**
 * Clustering: edges above the threshold are merged best first, but two groups merge only when
 * their average linkage (mean match probability over all cross pairs, scored on demand and
 * sampled for big groups) is at least the threshold — so one strong edge cannot chain two
 * unrelated groups the way connected components does. Labels can act as must-link (merged
 * first) and cannot-link (a merge joining a labeled non-match is refused).
 */

export interface ClusterInput {
  n: number;
  /** Candidate edges and their probabilities. */
  a: Uint32Array;
  b: Uint32Array;
  p: Float32Array;
  threshold: number;
  /** Probability of any pair, for average linkage. */
  score: (a: number, b: number) => number;
  mustLink?: ReadonlyArray<[number, number]>;
  cannotLink?: ReadonlyArray<[number, number]>;
  /** Minimum average linkage for merging two groups (default: threshold). */
  linkageThreshold?: number;
  /** Cross pairs evaluated per merge before sampling (default 256). */
  maxLinkagePairs?: number;
  /**
   * Groups that exist before clustering (incremental matching): rows with the same non-negative
   * `group` start merged, their pairs counted at `confidence[group]` (the group's mean pair
   * probability), and no merge ever joins two different fixed groups: a row that would bridge two
   * of them joins the first its best edges reach.
   */
  fixed?: { group: Int32Array; confidence: ArrayLike<number> };
}

export interface ClusterOutput {
  /** Cluster id per row: the smallest row index in its cluster. */
  cluster: Uint32Array;
  confidence: Float64Array;
  groups: number;
  matchedPairs: number;
}

/** Remembered rejected merges; past this many the memory is cleared (it only saves recomputation). */
const REJECTED_LIMIT = 1 << 22;

export function clusterPairs(inp: ClusterInput): ClusterOutput {
  const { n, threshold } = inp;
  const maxPairs = inp.maxLinkagePairs ?? 64;
  // Rejected merges are remembered until either group changes (edges between the same two
  // groups would otherwise recompute the same linkage again and again).
  const version = new Uint32Array(n);
  let rejected = new Map<number, number>();
  const linkT = inp.linkageThreshold ?? threshold;
  const parent = new Uint32Array(n);
  // Members of merged groups only: a row without an entry is a group of its own.
  const members: Array<number[] | undefined> = new Array(n);
  const sizeOf = (root: number) => members[root]?.length ?? 1;
  const membersOf = (root: number) => members[root] ?? [root];
  const sumP = new Float64Array(n);
  const cnt = new Float64Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) { parent[x] = parent[parent[x]!]!; x = parent[x]!; }
    return x;
  };
  const cannot = new Map<number, number[]>();
  for (const [x, y] of inp.cannotLink ?? []) {
    if (x === y) continue;
    (cannot.get(x) ?? cannot.set(x, []).get(x)!).push(y);
    (cannot.get(y) ?? cannot.set(y, []).get(y)!).push(x);
  }
  // Per root, the fixed group it holds (-1: none).
  const fixedOf = inp.fixed ? Int32Array.from(inp.fixed.group) : undefined;
  const conflicts = (ra: number, rb: number): boolean => {
    if (fixedOf && fixedOf[ra]! >= 0 && fixedOf[rb]! >= 0 && fixedOf[ra] !== fixedOf[rb]) return true;
    if (cannot.size === 0) return false;
    const small = sizeOf(ra) <= sizeOf(rb) ? ra : rb;
    const other = small === ra ? rb : ra;
    for (const m of membersOf(small)) {
      const cs = cannot.get(m);
      if (cs) for (const c of cs) if (find(c) === other) return true;
    }
    return false;
  };
  const union = (ra: number, rb: number, cross: number) => {
    let big = ra, small = rb;
    if (sizeOf(ra) < sizeOf(rb)) { big = rb; small = ra; }
    const pairs = sizeOf(big) * sizeOf(small);
    sumP[big] = sumP[big]! + sumP[small]! + cross * pairs;
    cnt[big] = cnt[big]! + cnt[small]! + pairs;
    parent[small] = big;
    if (fixedOf && fixedOf[big]! < 0) fixedOf[big] = fixedOf[small]!;
    version[big] = version[big]! + 1;
    const into = members[big] ?? (members[big] = [big]);
    for (const m of membersOf(small)) into.push(m);
    members[small] = undefined;
  };
  const linkage = (ra: number, rb: number): number => {
    const A = membersOf(ra), B = membersOf(rb);
    const total = A.length * B.length;
    const step = total <= maxPairs ? 1 : total / maxPairs;
    let s = 0, c = 0;
    for (let t = 0; t < total && c < maxPairs; t = Math.floor((c + 1) * step), c++) {
      const i = Math.floor(t / B.length), j = t % B.length;
      s += inp.score(A[i]!, B[j]!);
    }
    return c ? s / c : 0;
  };
  if (inp.fixed) {
    const firstOf = new Map<number, number>();
    inp.fixed.group.forEach((g, r) => {
      if (g < 0) return;
      const first = firstOf.get(g);
      if (first === undefined) firstOf.set(g, r);
      else union(find(first), find(r), inp.fixed!.confidence[g]!);
    });
  }
  for (const [x, y] of inp.mustLink ?? []) {
    const rx = find(x), ry = find(y);
    if (rx !== ry && !conflicts(rx, ry)) union(rx, ry, 1);
  }
  for (const e of edgesBestFirst(inp)) {
    const ra = find(inp.a[e]!), rb = find(inp.b[e]!);
    if (ra === rb) continue;
    const single = sizeOf(ra) === 1 && sizeOf(rb) === 1;
    const lo = Math.min(ra, rb), hi = Math.max(ra, rb);
    const rkey = lo * n + hi;
    const stamp = version[lo]! * 2097152 + version[hi]!;
    if (rejected.get(rkey) === stamp) continue;
    // Conflicts first: they cost no scoring.
    const refused = conflicts(ra, rb);
    const link = refused ? 0 : single ? inp.p[e]! : linkage(ra, rb);
    if (refused || link < (single ? threshold : linkT)) {
      if (rejected.size >= REJECTED_LIMIT) rejected = new Map();
      rejected.set(rkey, stamp);
      continue;
    }
    union(ra, rb, link);
  }
  const cluster = new Uint32Array(n);
  const confidence = new Float64Array(n);
  let groups = 0, matchedPairs = 0;
  for (let r = 0; r < n; r++) {
    if (parent[r] !== r) continue;
    groups++;
    const ms = members[r];
    if (!ms) {
      cluster[r] = r;
      confidence[r] = 1;
      continue;
    }
    let min = ms[0]!;
    for (const m of ms) if (m < min) min = m;
    const conf = Math.min(1, Math.max(0, sumP[r]! / cnt[r]!));
    matchedPairs += (ms.length * (ms.length - 1)) / 2;
    for (const m of ms) { cluster[m] = min; confidence[m] = conf; }
  }
  return { cluster, confidence, groups, matchedPairs };
}

/** Remembered scores of pairs of equal rows (scoredOncePerEqualRows); past this many the memory starts again. */
const EQUAL_ROWS_MEMO = 1 << 20;

/**
 * Rows equal in every compared column score alike with any row, so `score` is asked once per pair
 * of such rows' first equal rows (`first`: firstEqualRows) and the answer remembered: each merge
 * into a group of a hundred thousand identical rows would otherwise score 63 more pairs on demand.
 */
export function scoredOncePerEqualRows(score: (a: number, b: number) => number, first: Int32Array): (a: number, b: number) => number {
  const n = first.length;
  let memo = new Map<number, number>();
  return (x, y) => {
    const fx = first[x]!, fy = first[y]!;
    if (fx === x && fy === y) return score(x, y);
    const key = Math.min(fx, fy) * n + Math.max(fx, fy);
    let p = memo.get(key);
    if (p === undefined) {
      p = score(x, y);
      if (memo.size >= EQUAL_ROWS_MEMO) memo = new Map();
      memo.set(key, p);
    }
    return p;
  };
}

/**
 * Indexes of the edges at or above the threshold, highest probability first (ties: input order,
 * which is by row pair). Sorted natively as numbers: the probability's distance from 1 in steps of
 * 2^-22, times 2^31, plus the edge's rank among those kept.
 */
function edgesBestFirst(inp: ClusterInput): Uint32Array {
  const { p, threshold } = inp;
  let m = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! >= threshold) m++;
  const kept = new Uint32Array(m);
  const keys = new Float64Array(m);
  const STEP = 2 ** 22, SPAN = 2 ** 31;
  let k = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! < threshold) continue;
    kept[k] = i;
    keys[k] = Math.round((1 - Math.min(1, p[i]!)) * STEP) * SPAN + k;
    k++;
  }
  keys.sort();
  const order = new Uint32Array(m);
  for (let j = 0; j < m; j++) order[j] = kept[keys[j]! % SPAN]!;
  return order;
}
