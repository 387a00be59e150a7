/**
 * The end-to-end pairwise F1 each dataset should reach within 10 rounds (issue 4). Used only for
 * reporting: the benchmark runs the same code with the same defaults on every dataset.
 */
export const F1_TARGETS: Readonly<Record<string, number>> = {
  febrl3: 0.98,
  febrl4: 0.995,
  leipzig_dblp_acm: 0.98,
  magellan_fodors_zagats: 0.98,
  restaurant: 0.95,
  rldata10000: 0.98,
  cora: 0.9,
  splink_historical_50k: 0.85,
  dedupe_csv_example: 0.9,
  leipzig_abt_buy: 0.75,
};

/** Rounds within which the targets should be met. */
export const TARGET_ROUNDS = 10;

/**
 * Issue 8's speed and scale targets (`npm run bench:speed`), on a 2-core machine; checked against
 * the medians of the result files for reporting only.
 */
export const SPEED_TARGETS = {
  cores: 2,
  /** Find-matches job, end to end, by records. */
  findMatchesSeconds: { 1_000_000: 60, 5_000_000: 360 },
  /** Largest single process of the server's tree, by records. */
  peakRssGiB: { 1_000_000: 4, 5_000_000: 12 },
  /** Pairwise F1 of the output, at every size, with the same labels (~1,000 rows). */
  f1: 0.98,
  /** |EvaluationMetrics F1 − F1 of the output|. */
  f1Gap: 0.03,
  /** At 1M records. */
  labelingSetSeconds: 20,
  evaluationSeconds: 30,
  wholeRoundSeconds: 120,
  /** Scored candidate pairs per second of the scoring stage. */
  pairsPerSecond: 500_000,
  /** GetMLTransform during a 1M find-matches job and a label import of this many rows. */
  p99Ms: 200,
  probeImportRows: 1_000_000,
  /**
   * "Near-linear": find-matches time per record grows at most this factor from one size to the
   * next (100k → 1M → 5M). n log n work gives 1.2 and 1.12 for these steps, quadratic work 10 and 5.
   */
  nearLinearStep: 1.5,
} as const;
