/**
 * API latency under load: one call in a tight sequential loop with a short pause between calls,
 * every call timed (errors too: a failed call is a slow answer as far as a user is concerned).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from './aws.js';
import { percentile } from './stats.js';

export interface LatencySummary {
  calls: number;
  errors: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** The first few error messages. */
  errorSamples: string[];
}

const ERROR_SAMPLES = 5;

export function summarizeLatencies(durationsMs: readonly number[], errors: readonly string[]): LatencySummary {
  const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    calls: durationsMs.length,
    errors: errors.length,
    p50Ms: round(percentile(durationsMs, 50)),
    p90Ms: round(percentile(durationsMs, 90)),
    p99Ms: round(percentile(durationsMs, 99)),
    maxMs: round(percentile(durationsMs, 100)),
    errorSamples: errors.slice(0, ERROR_SAMPLES),
  };
}

/** A running probe; `stop` ends the loop after the call in flight and summarizes. */
export interface LatencyProbe {
  stop(): Promise<LatencySummary>;
}

/** Calls `call` again and again, `pauseMs` apart, until stopped. */
export function startLatencyProbe(call: () => Promise<unknown>, pauseMs = 20): LatencyProbe {
  const durations: number[] = [];
  const errors: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = performance.now();
      try {
        await call();
      } catch (e) {
        errors.push(describeError(e));
      }
      durations.push(performance.now() - t);
      await sleep(pauseMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return summarizeLatencies(durations, errors);
    },
  };
}
