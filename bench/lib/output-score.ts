/**
 * Scores a FindMatches output (CSV part files under an S3 prefix) against a dataset's truth.csv
 * with the project's pairwise scorer. For millions of records the scorer's maps take gigabytes, so
 * the benchmark runs it in a worker thread with a heap of its own (`scoreOutputInWorker`), apart
 * from the benchmark's own heap.
 */
import { Worker } from 'node:worker_threads';
import { scorePairwise, type PredictionRow } from '../../src/evaluation/pairwise-score.js';
import { readOutputMatchIds, s3Client } from './aws.js';
import { readTruthColumns, truthRecords } from './people-data.js';
import type { OutputScore } from './speed-results.js';

export interface ScoreJob {
  endpoint: string;
  /** s3://bucket/prefix/ of the output (with _SUCCESS). */
  outputUri: string;
  /** The dataset folder holding truth.csv. */
  datasetDir: string;
  primaryKey: string;
}

export async function scoreOutput(job: ScoreJob): Promise<OutputScore> {
  const truth = await readTruthColumns(job.datasetDir);
  const output = await readOutputMatchIds(s3Client(job.endpoint), job.outputUri, job.primaryKey);
  function* predictions(): Generator<PredictionRow> {
    for (let i = 0; i < output.ids.length; i += 1) yield { id: output.ids[i]!, matchId: output.matchIds[i]! };
  }
  const s = scorePairwise(truthRecords(truth), predictions(), 'all');
  return {
    precision: s.precision,
    recall: s.recall,
    f1: s.f1,
    truePositives: s.truePositives,
    predictedPairs: s.predictedPairs,
    truePairs: s.truePairs,
    outputRows: output.ids.length,
    missingRecords: s.missingRecords,
    unknownIds: s.unknownIds,
    duplicateIds: s.duplicateIds,
  };
}

/** scoreOutput in a worker thread whose heap may grow to `maxHeapMiB`. */
export function scoreOutputInWorker(job: ScoreJob, maxHeapMiB = 8192): Promise<OutputScore> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./score-worker.js', import.meta.url), {
      workerData: job,
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMiB },
    });
    let settled = false;
    worker.once('message', (score: OutputScore) => {
      settled = true;
      resolve(score);
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the scoring worker exited with code ${code} without a score`));
    });
  });
}
