/** Worker thread of scoreOutputInWorker: scores the output it is given and posts the score. */
import { parentPort, workerData } from 'node:worker_threads';
import { scoreOutput, type ScoreJob } from './output-score.js';

parentPort!.postMessage(await scoreOutput(workerData as ScoreJob));
