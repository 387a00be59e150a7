/**
 * A large find-matches run scored in parts (README "Partitioned find-matches runs"). The run (the
 * parent) reads the table, trains and blocks as a single run does; then, instead of scoring the
 * candidate pairs itself, it writes what scores them (the prepared table and the model, engine
 * state.ts) and each part's share of the pairs to a folder of its own beside the output, and
 * enqueues one FIND_MATCHES task run per part. Any task process of any server sharing the stores
 * claims a part from the queue, scores its pairs and writes their probabilities back. The parent
 * waits, executing the parts nobody has taken yet itself (so it never waits for a task process it
 * occupies), reads every part's probabilities in pair order and clusters them as a single run
 * does: the groups are the single run's, pair for pair.
 *
 * A part's share is a range of the candidate pairs (sorted by left row) cut where the left row
 * changes: every pair is scored exactly once. Parts are hidden from GetMLTaskRun(s) and from the
 * transform's concurrent-run limit; a part that fails (after the transform's MaxRetries) fails the
 * run, a cancel of the run cancels its parts, and the folder is removed when the run ends.
 *
 * Each execution of the run (an attempt, or the same attempt started over after a shutdown) has a
 * folder of its own, named after its attempt and when it began RUNNING, and its parts name that
 * folder. The execution cleans up after itself when it can; when it cannot (its task process or
 * node died, it was stopped or timed out, its lease expired) whoever settles its attempt ends
 * exactly that execution's parts and removes exactly its folder (endExecution), without touching
 * a newer execution of the same run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeState, encodeState, type IncrementalState, type Matcher, type ScoredPairs, type ScoringPlan } from '../../engine/index.js';
import type { MetadataStore } from '../../storage/metadata-store.js';
import { ObjectStoreError, type ObjectStore } from '../../storage/object-store.js';
import { startingTaskRun, type Scope, type TaskRunRecord, type TransformRecord } from '../../storage/records.js';
import { asPrefix, formatS3Uri, parseS3Uri, type S3Location } from '../../storage/s3-uri.js';
import { TaskFailure, type TaskContext, type TaskResult } from '../task-handler.js';
import { maxRetriesOf, mayRetry, retryArgsOf } from '../retry-budget.js';
import { whileLeaseHolds } from '../lease-retry.js';
import { readObject } from './incremental-state.js';

/** What a part run is given (its run's `args`). */
export interface PartArgs {
  /** The find-matches task run it is a part of. */
  partOf: string;
  /** 0-based. */
  part: number;
  parts: number;
  /** The parent execution's folder (an S3 URI ending in `/`, see executionFolder): the state, the pairs and the scores. */
  folder: string;
}

/** How the parts of runs are sized and leased (the server's configuration). */
export interface PartitionConfig {
  /** DOPPEL_PARTITION_ROWS: a run is split into one part per this many rows (fewer rows: one run). */
  partitionRows: number;
  /** DOPPEL_LEASE_MS: a part its parent executes is leased as long as the supervisor leases runs. */
  leaseMs: number;
}

/** Glue's default MaxCapacity of an ML transform (DPUs): the bound on parts when the transform states none. */
const DEFAULT_MAX_CAPACITY = 10;
/** How often the parent looks at its parts while others execute them. */
const WAIT_MS = 200;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMEOUT']);

export function isPart(run: TaskRunRecord): boolean {
  return typeof run.args['partOf'] === 'string';
}

/**
 * How many parts a run over `rows` rows is split into: one per DOPPEL_PARTITION_ROWS rows, at most
 * the transform's NumberOfWorkers (or its MaxCapacity in DPUs, one worker each); 1 is a single run.
 */
export function partCount(transform: TransformRecord, rows: number, partitionRows: number): number {
  const workers = transform.doc['NumberOfWorkers'];
  const capacity = transform.doc['MaxCapacity'];
  const bound =
    typeof workers === 'number' ? workers : typeof capacity === 'number' ? Math.floor(capacity) : DEFAULT_MAX_CAPACITY;
  return Math.max(1, Math.min(bound, Math.ceil(rows / partitionRows)));
}

/**
 * The parts' shares of the candidate pairs: part i scores pairs cuts[i] .. cuts[i + 1], cut where
 * the left row changes (a row's pairs stay in one part).
 */
export function partCuts(a: Uint32Array, parts: number): number[] {
  const m = a.length;
  const cuts = [0];
  for (let i = 1; i < parts; i++) {
    let cut = Math.max(cuts[i - 1]!, Math.round((i * m) / parts));
    while (cut > 0 && cut < m && a[cut] === a[cut - 1]) cut++;
    cuts.push(cut);
  }
  cuts.push(m);
  return cuts;
}

/** Where a run keeps its parts' data: a folder of its own under the output's hidden `_doppel/`. */
export function partsFolder(output: S3Location, runId: string): S3Location {
  return { bucket: output.bucket, key: `${asPrefix(output.key)}_doppel/parts/${runId}/` };
}

/**
 * The folder of one execution of the run: `run` as it was claimed (its attempt, and when that
 * execution began RUNNING, which tells apart the executions of an attempt handed back on shutdown).
 */
function executionFolder(output: S3Location, run: Pick<TaskRunRecord, 'id' | 'attempt' | 'runningSince'>): S3Location {
  return { bucket: output.bucket, key: `${partsFolder(output, run.id).key}attempt-${run.attempt}-${run.runningSince ?? 0}/` };
}

/** The output of a find-matches run that is no part (its `--output-path`), undefined for a run of any other kind. */
function outputOf(run: TaskRunRecord): S3Location | undefined {
  const outputPath = run.args['outputPath'];
  if (run.taskType !== 'FIND_MATCHES' || isPart(run) || typeof outputPath !== 'string') return undefined;
  try {
    return parseS3Uri(outputPath);
  } catch {
    return undefined; // such a run fails before it writes anything
  }
}

const stateKey = (folder: S3Location) => `${folder.key}state.bin`;
const pairsKey = (folder: S3Location, part: number) => `${folder.key}pairs-${part}.bin`;
const scoresKey = (folder: S3Location, part: number) => `${folder.key}scores-${part}.bin`;

async function put(objects: ObjectStore, bucket: string, key: string, chunks: Uint8Array[]): Promise<void> {
  await objects.putObject(bucket, key, (async function* () { yield* chunks; })(), { contentType: 'application/octet-stream' });
}

const bytesOf = (a: Uint32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Removes every object under the folder. */
async function removeFolder(objects: ObjectStore, folder: S3Location): Promise<void> {
  for (;;) {
    const listed = await objects.listObjects(folder.bucket, { prefix: folder.key });
    for (const o of listed.objects) await objects.deleteObject(folder.bucket, o.key);
    if (!listed.isTruncated || listed.objects.length === 0) return;
  }
}

/** Removes the folders of runs that wrote to this output and have ended (or are gone). */
async function removeEndedRunsFolders(store: MetadataStore, ctx: TaskContext, output: S3Location): Promise<void> {
  const parent = `${asPrefix(output.key)}_doppel/parts/`;
  const listed = await ctx.objects.listObjects(output.bucket, { prefix: parent, delimiter: '/' });
  for (const prefix of listed.commonPrefixes) {
    const runId = prefix.slice(parent.length, -1);
    const other = await store.tasks.get(ctx.run, ctx.run.transformId, runId);
    if (!other || TERMINAL.has(other.status)) await removeFolder(ctx.objects, { bucket: output.bucket, key: prefix });
  }
}

/**
 * Cancels the run's parts that have not ended: all executions' parts, or with `folder` only those of
 * the execution writing there. Returns those now STOPPING (their task processes are being stopped).
 */
export async function cancelParts(store: MetadataStore, scope: Scope, transformId: string, runId: string, folder?: S3Location): Promise<TaskRunRecord[]> {
  const uri = folder && formatS3Uri(folder);
  const stopping: TaskRunRecord[] = [];
  let now: number | undefined;
  for (const run of await store.tasks.list(scope, transformId)) {
    if (run.args['partOf'] !== runId || TERMINAL.has(run.status) || (uri !== undefined && run.args['folder'] !== uri)) continue;
    now ??= await store.tasks.clock();
    const after = await store.tasks.requestCancel(scope, transformId, run.id, now);
    if (after?.status === 'STOPPING') stopping.push(after);
  }
  return stopping;
}

/**
 * Ends what an execution of a find-matches run left behind once its attempt is over, however it
 * ended (nothing is left after one that cleaned up after itself; one cut short, by a death, a stop,
 * a timeout or an expired lease, may have left everything): its parts that have not ended are
 * cancelled (task processes executing them are stopped by their supervisors within a quarter of a
 * second; those its own process executed end when their lease expires) and its folder is removed.
 * `run` is the run as that execution claimed it, and it is called after the attempt's ending was
 * written: a part that writes its scores later sees that and removes them itself (scorePart).
 * Nothing for runs of other kinds. Returns the parts now STOPPING.
 */
export async function endExecution(store: MetadataStore, objects: ObjectStore, run: TaskRunRecord): Promise<TaskRunRecord[]> {
  const output = outputOf(run);
  if (!output) return [];
  const folder = executionFolder(output, run);
  const stopping = await cancelParts(store, run, run.transformId, run.id, folder);
  try {
    await removeFolder(objects, folder);
  } catch (e) {
    // A run whose output bucket is missing wrote nothing there (it failed saying so).
    if (!(e instanceof ObjectStoreError && e.code === 'NoSuchBucket')) throw e;
  }
  return stopping;
}

/** Whether the execution of the parent run that wrote `args.folder` is the parent's current one and still RUNNING. */
async function parentExecutionLive(store: MetadataStore, part: TaskRunRecord): Promise<{ live: boolean; parent?: TaskRunRecord }> {
  const args = part.args as unknown as PartArgs;
  const parent = await store.tasks.get(part, part.transformId, args.partOf);
  const output = parent && outputOf(parent);
  const live = parent?.status === 'RUNNING' && output !== undefined && formatS3Uri(executionFolder(output, parent)) === args.folder;
  return { live, ...(parent ? { parent } : {}) };
}

export interface PartDeps {
  store: MetadataStore;
  matcher: Matcher;
}

/**
 * Scores the plan's pairs in `parts` part runs (see the module comment) and hands back their
 * probabilities in pair order; the parts' folder is gone afterwards, whatever happened.
 */
export async function scoreInParts(
  deps: PartDeps & { partitions: PartitionConfig },
  ctx: TaskContext,
  output: S3Location,
  plan: ScoringPlan,
  parts: number,
): Promise<ScoredPairs> {
  const { store } = deps;
  const run = ctx.run;
  const runFolder = partsFolder(output, run.id);
  // An earlier execution of this run whose ending was settled by a node that died before cleaning
  // up after it (endExecution) may have left parts and data behind, and so may other runs
  // to this output.
  await cancelParts(store, run, run.transformId, run.id);
  await removeFolder(ctx.objects, runFolder);
  await removeEndedRunsFolders(store, ctx, output);
  const folder = executionFolder(output, run);
  try {
    const m = plan.pairs.a.length;
    ctx.progress(`scoring in ${parts} parts: writing the prepared table, the model and the parts' pairs to ${formatS3Uri(folder)}`);
    await put(ctx.objects, folder.bucket, stateKey(folder), encodeState(plan.state));
    const cuts = partCuts(plan.pairs.a, parts);
    const ids: string[] = [];
    for (let i = 0; i < parts; i++) {
      const [from, to] = [cuts[i]!, cuts[i + 1]!];
      await put(ctx.objects, folder.bucket, pairsKey(folder, i), [bytesOf(plan.pairs.a.subarray(from, to)), bytesOf(plan.pairs.b.subarray(from, to))]);
    }
    const now = await store.tasks.clock();
    for (let i = 0; i < parts; i++) {
      const id = `tsk-${randomBytes(20).toString('hex')}`;
      const args: PartArgs = { partOf: run.id, part: i, parts, folder: formatS3Uri(folder) };
      const props = { FindMatchesTaskRunProperties: { PartOf: run.id, Part: i + 1, PartCount: parts } };
      // A job run's parts retry within its job's MaxRetries, as the job run's own run does.
      await store.tasks.enqueue(
        startingTaskRun(run, { transformId: run.transformId, id, taskType: 'FIND_MATCHES', properties: props, args: { ...args, ...retryArgsOf(run) } }, now),
        { maxActivePerTransform: Number.MAX_SAFE_INTEGER },
      );
      ids.push(id);
    }
    ctx.progress(`scoring ${m} candidate pairs in ${parts} parts (task runs ${ids.join(', ')})`);
    await awaitParts(deps, ctx, plan.state, folder, ids);
    const p = new Float32Array(m);
    let fullyScored = 0;
    for (let i = 0; i < parts; i++) {
      const { bytes } = await readObject(ctx.objects, { bucket: folder.bucket, key: scoresKey(folder, i) });
      const [from, to] = [cuts[i]!, cuts[i + 1]!];
      if (bytes.byteLength !== (to - from) * 4) throw new TaskFailure(`Part ${i + 1} of ${parts} wrote ${bytes.byteLength} bytes of scores for ${to - from} pairs.`);
      p.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), from);
      const part = await store.tasks.get(run, run.transformId, ids[i]!);
      fullyScored += Number((part?.properties['FindMatchesTaskRunProperties'] as Record<string, unknown> | undefined)?.['FullyScoredPairCount'] ?? 0);
    }
    return { p, fullyScored };
  } finally {
    await cancelParts(store, run, run.transformId, run.id);
    try {
      await removeFolder(ctx.objects, runFolder);
    } catch (e) {
      // The output does not depend on it: the next run to this output removes it.
      ctx.progress(`the parts' data at ${formatS3Uri(runFolder)} was not removed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/**
 * Waits until every part has SUCCEEDED, executing those still waiting in the queue itself (the
 * last first: task processes claim the oldest). A part that ends otherwise fails the run.
 */
async function awaitParts(deps: PartDeps & { partitions: PartitionConfig }, ctx: TaskContext, state: IncrementalState, folder: S3Location, ids: string[]): Promise<void> {
  const { store } = deps;
  const run = ctx.run;
  for (;;) {
    const parts = await Promise.all(ids.map((id) => store.tasks.get(run, run.transformId, id)));
    let done = 0;
    for (const [i, part] of parts.entries()) {
      if (!part) throw new TaskFailure(`Part ${i + 1} of ${ids.length} (task run ${ids[i]}) is gone.`);
      if (part.status === 'SUCCEEDED') done++;
      else if (TERMINAL.has(part.status)) {
        throw new TaskFailure(`Part ${i + 1} of ${ids.length} (task run ${part.id}) ended ${part.status}${part.errorString ? `: ${part.errorString}` : ''}`);
      }
    }
    if (done === ids.length) return;
    ctx.progress(`scoring in ${ids.length} parts: ${done} done`);
    const waiting = parts.filter((p) => p!.status === 'STARTING').reverse();
    let executed = false;
    for (const part of waiting) {
      if (await executeHere(deps, ctx, state, folder, part!)) {
        executed = true;
        break;
      }
    }
    if (!executed) await sleep(WAIT_MS);
  }
}

/**
 * Claims a waiting part and executes it in this process with the state already in memory, leased
 * and committed as the supervisor's runs are (retried within the transform's MaxRetries). False
 * when another process claimed it first.
 */
async function executeHere(deps: PartDeps & { partitions: PartitionConfig }, ctx: TaskContext, state: IncrementalState, folder: S3Location, part: TaskRunRecord): Promise<boolean> {
  const { store, partitions: config } = deps;
  const owner = `part-executor-${randomUUID()}`;
  const claimedAt = Date.now();
  const claimed = await store.tasks.claimNext(owner, await store.tasks.clock(), config.leaseMs, { id: part.id });
  if (!claimed) return false;
  // As the supervisor does for its runs: the lease's end on this machine's clock, and the store's
  // calls tried again while it is unreachable and the lease holds.
  let leaseUntil = claimedAt + config.leaseMs;
  const leased = <T>(call: (now: number) => Promise<T>) =>
    whileLeaseHolds(async () => call(await store.tasks.clock()), () => leaseUntil, () => undefined);
  const abort = new AbortController();
  let renewing = false;
  const renew = setInterval(() => {
    if (renewing) return;
    renewing = true;
    const renewal = async () => {
      const sentAt = Date.now();
      return { lease: await store.tasks.renewLease(claimed.id, owner, await store.tasks.clock(), config.leaseMs), sentAt };
    };
    whileLeaseHolds(renewal, () => leaseUntil, () => undefined)
      .then(
        ({ lease, sentAt }) => {
          if (lease === 'held') leaseUntil = sentAt + config.leaseMs;
          else if (lease !== 'ended') abort.abort(new TaskFailure(`part ${claimed.id} was ${lease}`));
        },
        () => undefined,
      )
      .finally(() => (renewing = false));
  }, Math.max(20, Math.floor(config.leaseMs / 3)));
  try {
    const result = await scorePart(deps, ctx.objects, claimed, state, folder, abort.signal);
    await leased((now) => store.tasks.finish(claimed.id, owner, { status: 'SUCCEEDED', ...result }, now));
  } catch (e) {
    if (abort.signal.aborted) {
      // Cancelled (the run is being stopped) or taken over: the lease holder settles it.
      await leased((now) => store.tasks.release(claimed.id, owner, now, { resume: false, errorString: 'Part was stopped.' })).catch(() => undefined);
      return true;
    }
    const errorString = e instanceof Error ? e.message : String(e);
    if (!(mayRetry(claimed, maxRetriesOf(claimed, ctx.transform)) && (await leased((now) => store.tasks.retry(claimed.id, owner, now))))) {
      await leased((now) => store.tasks.finish(claimed.id, owner, { status: 'FAILED', errorString }, now));
    }
  } finally {
    clearInterval(renew);
  }
  return true;
}

/** The state a task process last read for a part: the parts of one run it executes share it. */
let lastState: { uri: string; etag: string; state: IncrementalState } | undefined;

/**
 * A part run claimed from the queue (the FIND_MATCHES handler hands it here): reads the state and
 * its pairs, scores them and writes their probabilities.
 */
export async function executePart(deps: PartDeps, ctx: TaskContext): Promise<TaskResult> {
  const args = ctx.run.args as unknown as PartArgs;
  const { live, parent } = await parentExecutionLive(deps.store, ctx.run);
  if (!live) throw new TaskFailure(parentEndedMessage(args, parent));
  const folder = parseS3Uri(args.folder);
  const at = { bucket: folder.bucket, key: stateKey(folder) };
  const info = await ctx.objects.headObject(at.bucket, at.key);
  if (!info) throw new TaskFailure(`The prepared table of find-matches run ${args.partOf} is gone from ${args.folder}.`);
  const uri = formatS3Uri(at);
  if (lastState?.uri !== uri || lastState.etag !== info.etag) {
    lastState = undefined;
    ctx.progress(`part ${args.part + 1} of ${args.parts}: reading the prepared table and model`);
    const read = await readObject(ctx.objects, at);
    const state = decodeState(read.bytes);
    if (state instanceof Error) throw new TaskFailure(`The prepared table at ${uri} cannot be read: ${state.message}`);
    lastState = { uri, etag: read.info.etag, state };
  }
  return scorePart(deps, ctx.objects, ctx.run, lastState.state, folder, undefined, ctx.progress);
}

function parentEndedMessage(args: PartArgs, parent: TaskRunRecord | undefined): string {
  const how = !parent ? 'is gone' : parent.status === 'RUNNING' ? 'started again as a new attempt' : `is ${parent.status}`;
  return `The find-matches run ${args.partOf} this is part of ${how}.`;
}

async function scorePart(
  deps: PartDeps,
  objects: ObjectStore,
  run: TaskRunRecord,
  state: IncrementalState,
  folder: S3Location,
  signal?: AbortSignal,
  progress?: TaskContext['progress'],
): Promise<TaskResult> {
  const args = run.args as unknown as PartArgs;
  const { bytes } = await readObject(objects, { bucket: folder.bucket, key: pairsKey(folder, args.part) });
  const n = bytes.byteLength / 8;
  const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const pairs = { a: words.subarray(0, n), b: words.subarray(n) };
  const scored = await deps.matcher.scorePairs(state, pairs, {
    ...(signal ? { signal } : {}),
    progress: (stage, fraction) => progress?.(`part ${args.part + 1} of ${args.parts}: ${stage}`, fraction),
  });
  const scores = scoresKey(folder, args.part);
  await put(objects, folder.bucket, scores, [bytesOf(scored.p)]);
  // The parent's execution may have been cut short while this part scored, and its folder removed
  // already: then these scores would stay there, read by nobody (see endExecution).
  const { live, parent } = await parentExecutionLive(deps.store, run);
  if (!live) {
    await objects.deleteObject(folder.bucket, scores);
    throw new TaskFailure(parentEndedMessage(args, parent));
  }
  const props = run.properties['FindMatchesTaskRunProperties'] as Record<string, unknown>;
  return { properties: { FindMatchesTaskRunProperties: { ...props, ScoredPairCount: n, FullyScoredPairCount: scored.fullyScored } } };
}
