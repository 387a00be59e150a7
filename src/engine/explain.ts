/**
 * Why the model scores a pair as it does: each feature's contribution to the pair's log-odds
 * (classifier.ts `contributions`: the logistic model's w·x, the trees' path attribution, the blend
 * the mean of the two), summed per column, plus the bias. The contributions and the bias add up to
 * the model's log-odds of the pair: the data of a waterfall chart.
 */
import type { PairExplanation } from './api.js';
import { classifierOf, type PairModel } from './classifier.js';
import { FeatureWriter, type Feature } from './features.js';
import type { PreparedTable } from './profile.js';

export class PairExplainer {
  readonly #writer: FeatureWriter;
  readonly #x: Float32Array;
  readonly #shares: Float64Array;

  constructor(
    t: PreparedTable,
    private readonly features: readonly Feature[],
    private readonly model: PairModel,
  ) {
    this.#writer = new FeatureWriter(t, features, false);
    this.#x = new Float32Array(features.length);
    this.#shares = new Float64Array(features.length);
  }

  explain(a: number, b: number): PairExplanation {
    this.#writer.write(a, b, this.#x, 0);
    const bias = classifierOf(this.model).contributions(this.model, this.#x, 0, this.#shares);
    const features = this.features.map((f, i) => ({ column: f.columnName, feature: f.kind, value: this.#x[i]!, contribution: this.#shares[i]! }));
    const byColumn = new Map<string, number>();
    for (const f of features) byColumn.set(f.column, (byColumn.get(f.column) ?? 0) + f.contribution);
    const columns = [...byColumn].map(([column, contribution]) => ({ column, contribution }));
    const logOdds = bias + columns.reduce((s, c) => s + c.contribution, 0);
    return { logOdds, probability: 1 / (1 + Math.exp(-logOdds)), bias, columns, features };
  }
}
