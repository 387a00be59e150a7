/** A run's progress as GetMLTaskRun shows it (doppel's `Progress` member). */
export interface RunProgress {
  stage: string;
  percent: number;
}

export interface ProgressOutput {
  write(text: string): unknown;
  /** A terminal: the bar is redrawn in place. Otherwise plain lines are printed now and then. */
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 24;

/**
 * Shows a run's progress on the command line: on a terminal a bar with the percent, the stage and
 * an estimate of the time left, redrawn in place; elsewhere (a log file, a pipe) a plain line when
 * the stage changes and at most every `lineEveryMs` otherwise. Other messages go through `message`
 * so that they never end up in the middle of the bar.
 */
export class ProgressDisplay {
  #shown = false;
  /** The first reading: the pace is measured from there (the display may start with a run half done). */
  #first: { percent: number; at: number } | undefined;
  #lastLine: { stage: string; at: number } | undefined;

  constructor(
    private readonly out: ProgressOutput,
    private readonly clock: () => number = Date.now,
    private readonly lineEveryMs = 10_000,
  ) {}

  update(progress: RunProgress): void {
    const now = this.clock();
    this.#first ??= { percent: progress.percent, at: now };
    const text = `${String(progress.percent).padStart(3)}%  ${progress.stage}${this.#eta(progress.percent, now)}`;
    if (this.out.isTTY) {
      const filled = Math.round((progress.percent / 100) * BAR_WIDTH);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${text}`;
      this.out.write(`\r\x1b[2K${line.slice(0, Math.max(20, (this.out.columns || 80) - 1))}`);
      this.#shown = true;
      return;
    }
    const last = this.#lastLine;
    if (last && last.stage === progress.stage && now - last.at < this.lineEveryMs) return;
    this.#lastLine = { stage: progress.stage, at: now };
    this.out.write(`  ${text}\n`);
  }

  /** Prints a line of its own (the bar, if shown, is cleared first and redrawn at the next update). */
  message(line: string): void {
    this.#clear();
    this.out.write(`${line}\n`);
  }

  #clear(): void {
    if (!this.#shown) return;
    this.out.write('\r\x1b[2K');
    this.#shown = false;
  }

  /** Time left at the pace since the first reading, once there is a pace to go by. */
  #eta(percent: number, now: number): string {
    const first = this.#first!;
    const done = percent - first.percent;
    const elapsed = now - first.at;
    if (done <= 0 || percent >= 100 || elapsed < 2000) return '';
    return `  (ETA ${formatDuration((elapsed * (100 - percent)) / done)})`;
  }
}

export function formatDuration(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}
