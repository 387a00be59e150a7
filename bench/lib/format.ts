/** Text formatting shared by the benchmark programs. */
import type { PairwiseScore } from '../../src/evaluation/pairwise-score.js';

export const fmt = (x: number | undefined | null, digits = 4): string =>
  x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(digits);

export function formatScore(s: PairwiseScore): string {
  const lines = [
    `  precision ${fmt(s.precision)}  recall ${fmt(s.recall)}  F1 ${fmt(s.f1)}`,
    `  pairs: true positives ${s.truePositives}, predicted ${s.predictedPairs}, true ${s.truePairs}`,
    `  records: ${s.records} in the truth, ${s.scoredRecords} predicted, ${s.predictedClusters} predicted clusters, ${s.trueEntities} true entities`,
  ];
  if (s.missingRecords || s.unknownIds || s.duplicateIds) {
    lines.push(
      `  ignored: ${s.missingRecords} truth records missing from the predictions (scored as singletons), ` +
        `${s.unknownIds} unknown ids, ${s.duplicateIds} repeated ids`,
    );
  }
  return lines.join('\n');
}
