/**
 * Scores a predictions CSV against a benchmark dataset with the pairwise method of
 * ../shared/datasets/README.md.
 *
 *   node dist/bench/score.js <dataset> <predictions.csv | output folder> [--json]
 *
 * <dataset> is a folder holding meta.json / truth.csv / records.csv, or the name of one under
 * DOPPEL_DATASETS_DIR (default ../shared/datasets next to the checkout). A folder of predictions is
 * read as FindMatches output: every part file, markers skipped.
 */
import { readPredictions, readDatasetTruth, scoreAgainstDataset } from '../src/evaluation/dataset-files.js';
import { resolveDatasetDir } from './lib/datasets.js';
import { formatScore } from './lib/format.js';

function main(argv: string[]): number {
  const json = argv.includes('--json');
  const positional = argv.filter((a) => !a.startsWith('--'));
  if (positional.length !== 2 || argv.includes('--help')) {
    process.stderr.write('usage: node dist/bench/score.js <dataset> <predictions.csv | output folder> [--json]\n');
    return 2;
  }
  const [datasetArg, predictionsPath] = positional as [string, string];
  const dataset = readDatasetTruth(resolveDatasetDir(datasetArg));
  const score = scoreAgainstDataset(dataset, readPredictions(predictionsPath));
  if (json) {
    process.stdout.write(`${JSON.stringify({ dataset: dataset.meta.name, ...score }, null, 2)}\n`);
  } else {
    process.stdout.write(`${dataset.meta.name} (${dataset.meta.task}, ${score.mode} pairs)\n${formatScore(score)}\n`);
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`score: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
