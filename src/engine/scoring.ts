/**
 * Scoring a row pair: its match probability under the trained model. With a prefilter (training.ts)
 * the cheap features and the most important columns come first, and a clear non-match is settled
 * by them, with the prefilter's own (small) probability; every other pair gets all features and
 * the full model.
 */
import { FeatureWriter, type Feature } from './features.js';
import { sigmoid } from './model.js';
import type { PreparedTable } from './profile.js';
import { predictPair, type ScoringModel } from './training.js';

export class PairScorer {
  readonly #writer: FeatureWriter;
  readonly #x: Float32Array;
  readonly #firstSlots: number[];
  /** Pairs that needed the full model. */
  fullyScored = 0;

  constructor(
    t: PreparedTable,
    features: readonly Feature[],
    private readonly model: ScoringModel,
  ) {
    this.#writer = new FeatureWriter(t, features, true, new Set(model.prefilter?.columns ?? []));
    this.#x = new Float32Array(features.length);
    this.#firstSlots = this.#writer.firstSlots;
  }

  score(a: number, b: number): number {
    const x = this.#x;
    const pre = this.model.prefilter;
    this.#writer.writeFirst(a, b, x, 0);
    if (pre) {
      let z = pre.bias;
      for (const slot of this.#firstSlots) z += pre.weights[slot]! * x[slot]!;
      if (z < pre.below) return sigmoid(z);
    }
    this.#writer.writeRest(x, 0);
    this.fullyScored++;
    return predictPair(this.model.pair, x, 0);
  }
}
