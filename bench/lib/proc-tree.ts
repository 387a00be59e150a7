/**
 * CPU time and memory of a process and all its descendants, read from Linux's /proc, as a
 * benchmark needs them: the doppel server runs task runs in child processes, so the work of a stage
 * is the whole tree's.
 *
 * - CPU: Σ (utime + stime + cutime + cstime) over the live processes of the tree. A child that exits
 *   and is reaped moves its time (and that of its own reaped children) into its parent's
 *   cutime/cstime, so the sum keeps counting work of exited children.
 * - Memory: RSS of every process (VmRSS) sampled every `intervalMs`, the largest single process and
 *   the sum over the tree; and each process's exact peak (VmHWM), reset at the start of a stage by
 *   writing 5 to /proc/<pid>/clear_refs, so a peak shorter than the sampling interval is not missed.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { execFileSync } from 'node:child_process';

/** The fields of /proc/<pid>/stat the benchmark uses (times in clock ticks). */
export interface ProcStat {
  pid: number;
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/**
 * Parses /proc/<pid>/stat. The command (field 2) is in parentheses and may itself hold spaces and
 * parentheses, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // After ") ": field 3 (state) is rest[0], so field k is rest[k - 3].
  const rest = text.slice(close + 2).trim().split(' ');
  const field = (k: number) => {
    const v = Number(rest[k - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/${pid}/stat: field ${k} is not a number`);
    return v;
  };
  return { pid, ppid: field(4), utime: field(14), stime: field(15), cutime: field(16), cstime: field(17) };
}

/** A `Name:  value kB` line of /proc/<pid>/status in bytes, or null when the field is absent. */
export function statusBytes(text: string, name: string): number | null {
  const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc times (sysconf CLK_TCK; 100 on every common Linux build). */
function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    clockTicks = Number.isInteger(out) && out > 0 ? out : 100;
  }
  return clockTicks;
}

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process (or thread) exited meanwhile
  }
};

/** Direct children of a process: the union of its threads' /proc/<pid>/task/<tid>/children. */
export function childPids(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    const text = readText(`/proc/${pid}/task/${tid}/children`);
    if (text) for (const c of text.trim().split(/\s+/)) if (c !== '') out.push(Number(c));
  }
  return out;
}

/** The process and all its live descendants, parents before children. */
export function treePids(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (out.includes(pid)) continue;
    out.push(pid);
    queue.push(...childPids(pid));
  }
  return out;
}

/** One process of the tree at one moment. */
export interface ProcessSample {
  pid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  cpuTicks: number;
  rssBytes: number;
  /** Peak RSS since the process started or its peak was last reset (VmHWM). */
  hwmBytes: number;
}

/** Samples every live process of the tree (processes that exit while being read are left out). */
export function sampleTree(root: number): ProcessSample[] {
  const out: ProcessSample[] = [];
  for (const pid of treePids(root)) {
    const stat = readText(`/proc/${pid}/stat`);
    const status = readText(`/proc/${pid}/status`);
    if (stat === null || status === null) continue;
    const s = parseProcStat(stat);
    out.push({
      pid,
      cpuTicks: s.utime + s.stime + s.cutime + s.cstime,
      // A zombie has no memory left and no VmRSS line.
      rssBytes: statusBytes(status, 'VmRSS') ?? 0,
      hwmBytes: statusBytes(status, 'VmHWM') ?? 0,
    });
  }
  return out;
}

/** What a stage cost the process tree. */
export interface StageUsage {
  /** CPU seconds (user + system) of the whole tree during the stage. */
  cpuSeconds: number;
  /** The largest RSS any single process of the tree reached during the stage. */
  peakProcessRssBytes: number;
  /** That process: `server` for the root, else its script's or program's name. */
  peakProcess: string;
  /** The largest sum of RSS over the tree at one sample. */
  peakTreeRssBytes: number;
  /** RSS samples taken during the stage. */
  samples: number;
}

/** An open stage of a ProcessTreeMonitor. */
export interface StageWindow {
  startTicks: number;
  peakProcessRssBytes: number;
  peakPid: number;
  peakTreeRssBytes: number;
  samples: number;
}

/**
 * Samples a process tree every `intervalMs` and attributes CPU time and peak memory to stages
 * (`begin` … `end`); stages may overlap.
 */
export class ProcessTreeMonitor {
  readonly #root: number;
  readonly #intervalMs: number;
  readonly #open = new Set<StageWindow>();
  readonly #labels = new Map<number, string>();
  #timer: NodeJS.Timeout | undefined;
  /** The tree's CPU ticks at the last sample that found it (kept when the tree has gone). */
  #lastTicks = 0;

  constructor(root: number, intervalMs = 100) {
    this.#root = root;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Starts a stage: its CPU is counted from now, and every process's peak RSS is reset. */
  begin(): StageWindow {
    // Peaks reached so far belong to the stages already open; fold them in before the reset.
    const samples = this.#sample();
    for (const s of samples) {
      try {
        writeFileSync(`/proc/${s.pid}/clear_refs`, '5');
      } catch {
        // Exited meanwhile, or not ours to reset: the sampled RSS still bounds its peak.
      }
    }
    const w: StageWindow = { startTicks: this.#lastTicks, peakProcessRssBytes: 0, peakPid: this.#root, peakTreeRssBytes: 0, samples: 0 };
    this.#open.add(w);
    return w;
  }

  end(w: StageWindow): StageUsage {
    this.#sample();
    this.#open.delete(w);
    return {
      cpuSeconds: Math.max(0, this.#lastTicks - w.startTicks) / clockTicksPerSecond(),
      peakProcessRssBytes: w.peakProcessRssBytes,
      peakProcess: this.#label(w.peakPid),
      peakTreeRssBytes: w.peakTreeRssBytes,
      samples: w.samples,
    };
  }

  #sample(): ProcessSample[] {
    const samples = sampleTree(this.#root);
    if (samples.length === 0) return samples;
    let ticks = 0;
    let tree = 0;
    for (const s of samples) {
      ticks += s.cpuTicks;
      tree += s.rssBytes;
      if (!this.#labels.has(s.pid)) this.#labels.set(s.pid, this.#describe(s.pid));
    }
    this.#lastTicks = ticks;
    for (const w of this.#open) {
      w.samples += 1;
      w.peakTreeRssBytes = Math.max(w.peakTreeRssBytes, tree);
      for (const s of samples) {
        const peak = Math.max(s.rssBytes, s.hwmBytes);
        if (peak > w.peakProcessRssBytes) {
          w.peakProcessRssBytes = peak;
          w.peakPid = s.pid;
        }
      }
    }
    return samples;
  }

  #label(pid: number): string {
    return this.#labels.get(pid) ?? this.#describe(pid);
  }

  #describe(pid: number): string {
    if (pid === this.#root) return 'server';
    const args = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter((a) => a !== '');
    const script = args.slice(1).find((a) => /\.[cm]?js$/.test(a));
    return basename(script ?? args[0] ?? `pid ${pid}`);
  }
}
