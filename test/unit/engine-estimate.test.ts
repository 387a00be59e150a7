import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calibrate, fitCalibration } from '../../src/engine/calibration.js';
import { estimateOnCandidates } from '../../src/engine/estimate.js';
import { makeRng } from '../../src/engine/rng.js';

/** Scores drawn from a known calibrated model: y ~ Bernoulli(score). */
function calibratedSample(n: number, seed: number): { p: Float64Array; y: Uint8Array } {
  const rng = makeRng(seed);
  const p = new Float64Array(n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = 1 / (1 + Math.exp(-(rng() * 12 - 6)));
    y[i] = rng() < p[i]! ? 1 : 0;
  }
  return { p, y };
}

describe('engine calibration', () => {
  it('is undefined without both classes', () => {
    assert.equal(fitCalibration([0.2, 0.9], [1, 1]), undefined);
    assert.equal(fitCalibration([0.2, 0.9], [0, 0]), undefined);
  });
  it('leaves calibrated scores nearly unchanged', () => {
    const { p, y } = calibratedSample(4000, 7);
    const c = fitCalibration(p, y)!;
    for (const s of [0.05, 0.3, 0.5, 0.7, 0.95]) assert.ok(Math.abs(calibrate(c, s) - s) < 0.05, `${s} ↦ ${calibrate(c, s)}`);
  });
  it('pulls over-confident scores towards the observed match rate', () => {
    // The model says 0.99 / 0.01, but only 70% / 30% of those pairs match.
    const p: number[] = [], y: number[] = [];
    for (let i = 0; i < 100; i++) { p.push(0.99); y.push(i < 70 ? 1 : 0); p.push(0.01); y.push(i < 30 ? 1 : 0); }
    const c = fitCalibration(p, y)!;
    assert.ok(Math.abs(calibrate(c, 0.99) - 0.7) < 0.03);
    assert.ok(Math.abs(calibrate(c, 0.01) - 0.3) < 0.03);
    // Monotone in the score.
    assert.ok(calibrate(c, 0.2) < calibrate(c, 0.8));
  });
});

describe('engine calibration: monotone in the score', () => {
  it('one labeled match far down the tail, with none in the bins above it, does not make that score range likely to match', () => {
    // Non-matches spread over scores 0.001 to 0.3, matches above 0.7, and one odd match at 0.005:
    // one match among the 301 labeled pairs below 0.3.
    const p: number[] = [], y: number[] = [];
    for (let i = 0; i < 300; i++) { p.push(0.001 + (0.299 * i) / 299); y.push(0); }
    for (let i = 0; i < 100; i++) { p.push(0.7 + (0.29 * i) / 99); y.push(1); }
    p.push(0.005);
    y.push(1);
    const c = fitCalibration(p, y)!;
    let highest = 0, at = 0;
    for (let s = 0.001; s < 0.3; s += 0.0001) {
      if (calibrate(c, s) > highest) [highest, at] = [calibrate(c, s), s];
    }
    // A few times the tail's rate of 1/301 at most (without the pooling: 0.18 at 0.0066).
    assert.ok(highest < 0.02, `calibrate(${at.toFixed(4)}) = ${highest}`);
    assert.ok(calibrate(c, 0.8) > 0.95);
  });
});

describe('engine population estimate', () => {
  it('recovers precision, recall and F1 of candidates scored by a calibrated model', () => {
    const cal = fitCalibration(...Object.values(calibratedSample(4000, 1)) as [Float64Array, Uint8Array])!;
    const cand = calibratedSample(50_000, 2);
    const probs = Float32Array.from(cand.p);
    const threshold = 0.5;
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i]! >= threshold) cand.y[i] ? tp++ : fp++;
      else if (cand.y[i]) fn++;
    }
    const est = estimateOnCandidates(probs, cal, threshold);
    const P = tp / (tp + fp), R = tp / (tp + fn), F = (2 * P * R) / (P + R);
    assert.ok(Math.abs(est.precision! - P) < 0.02, `precision ${est.precision} vs ${P}`);
    assert.ok(Math.abs(est.recall! - R) < 0.02, `recall ${est.recall} vs ${R}`);
    assert.ok(Math.abs(est.f1! - F) < 0.02, `f1 ${est.f1} vs ${F}`);
  });
  it('counts matches that blocking never proposed as missed', () => {
    const cal = fitCalibration(...Object.values(calibratedSample(2000, 3)) as [Float64Array, Uint8Array])!;
    const probs = Float32Array.from(calibratedSample(10_000, 4).p);
    const full = estimateOnCandidates(probs, cal, 0.5, 1);
    const half = estimateOnCandidates(probs, cal, 0.5, 0.5);
    assert.ok(Math.abs(half.recall! - full.recall! / 2) < 1e-9);
    assert.equal(half.precision, full.precision);
    assert.ok(half.f1! < full.f1!);
  });
  it('raising the threshold trades expected recall for precision', () => {
    const cal = fitCalibration(...Object.values(calibratedSample(2000, 5)) as [Float64Array, Uint8Array])!;
    const probs = Float32Array.from(calibratedSample(10_000, 6).p);
    const low = estimateOnCandidates(probs, cal, 0.2), high = estimateOnCandidates(probs, cal, 0.8);
    assert.ok(high.precision! > low.precision!);
    assert.ok(high.recall! < low.recall!);
  });
});
