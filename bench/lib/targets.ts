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
