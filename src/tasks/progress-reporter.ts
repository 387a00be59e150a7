/** Progress as stored: the stage and the whole run's percent done. */
export interface ProgressPoint {
  stage: string;
  percent: number;
}

/**
 * Turns a handler's progress calls (as often as it likes) into store writes: a new stage at once
 * (stages are few, and the work that follows may keep the event loop busy for long), within a
 * stage at most one write per `minIntervalMs`, the last report always written in the end; and one
 * `onStage` call per new stage. Percent never goes back within an attempt.
 */
export class ProgressReporter {
  #latest: ProgressPoint | undefined;
  #written: ProgressPoint | undefined;
  #lastWriteAt = -Infinity;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (point: ProgressPoint) => void,
    private readonly onStage: (point: ProgressPoint) => void,
    private readonly minIntervalMs = 500,
  ) {}

  report(stage: string, fraction?: number): void {
    const previous = this.#latest;
    const reported = fraction === undefined || !Number.isFinite(fraction) ? 0 : Math.round(Math.min(1, Math.max(0, fraction)) * 100);
    const point = { stage, percent: Math.max(previous?.percent ?? 0, reported) };
    this.#latest = point;
    const newStage = previous?.stage !== stage;
    if (newStage) this.onStage(point);
    const wait = this.#lastWriteAt + this.minIntervalMs - Date.now();
    if (newStage || wait <= 0) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), wait);
  }

  /** Stops writing (the attempt is over). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const point = this.#latest;
    if (!point || (point.stage === this.#written?.stage && point.percent === this.#written.percent)) return;
    this.#written = point;
    this.#lastWriteAt = Date.now();
    this.write(point);
  }
}
