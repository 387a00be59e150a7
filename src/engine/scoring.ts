/**
 * Scoring a row pair: its match probability under the trained model. With a prefilter (training.ts)
 * the cheap features come first and then the most important columns one by one, and a clear
 * non-match is settled at the first stage that can, with that stage's own (small) probability;
 * every other pair gets all features and the full model.
 */
import { FeatureWriter, type Feature } from './features.js';
import { sigmoid } from './model.js';
import type { PreparedTable } from './profile.js';
import { pairProbability, type ScoringModel } from './training.js';

export class PairScorer {
  readonly #writer: FeatureWriter;
  readonly #x: Float32Array;
  /** Per prefilter stage, the slots it sees. */
  readonly #stageSlots: number[][];
  /** Pairs that needed the full model. */
  fullyScored = 0;

  constructor(
    t: PreparedTable,
    features: readonly Feature[],
    private readonly model: ScoringModel,
  ) {
    this.#writer = new FeatureWriter(t, features);
    this.#x = new Float32Array(features.length);
    const pre = model.prefilter;
    this.#stageSlots = [];
    if (pre) {
      let seen = [...this.#writer.cheapSlots];
      pre.stages.forEach((_, k) => {
        if (k > 0) seen = [...seen, ...this.#writer.columnSlots(pre.columns[k - 1]!)];
        this.#stageSlots.push(seen);
      });
    }
  }

  score(a: number, b: number): number {
    const x = this.#x;
    const writer = this.#writer;
    writer.writeCheap(a, b, x, 0);
    const pre = this.model.prefilter;
    if (pre) {
      for (let k = 0; k < pre.stages.length; k++) {
        if (k > 0) writer.writeColumn(pre.columns[k - 1]!, x, 0);
        const stage = pre.stages[k]!;
        let z = stage.bias;
        for (const slot of this.#stageSlots[k]!) z += stage.weights[slot]! * x[slot]!;
        if (z < stage.below) return sigmoid(z);
      }
    }
    writer.writeRest(x, 0);
    this.fullyScored++;
    return pairProbability(this.model.pair, x, 0);
  }
}
