import { decodeState, deltaBase, encodeState, encodeStateDelta, type IncrementalState, type MatchResult } from '../../engine/index.js';
import type { OutputFormat } from '../../jobs/find-matches-args.js';
import { asPrefix, formatS3Uri, type S3Location } from '../../storage/s3-uri.js';
import type { ObjectInfo, ObjectStore } from '../../storage/object-store.js';

/**
 * Where a find-matches run keeps the incremental state of the records it wrote (engine state.ts):
 * beside its output, under a hidden `_doppel/` folder, so readers of the output (Glue, Spark,
 * doppel's own --existing-path) skip it as they skip `_SUCCESS`. An incremental run whose
 * --existing-path is that output finds it there.
 */
export const STATE_KEY = '_doppel/incremental-state.bin';

export function stateLocation(output: S3Location): S3Location {
  return { bucket: output.bucket, key: asPrefix(output.key) + STATE_KEY };
}

/**
 * Writes the state of a run's output beside it. Only when the output holds every row of the run
 * in its order (not with --remove-duplicates or --golden-records): the state stands for exactly
 * those records.
 */
export async function writeIncrementalState(objects: ObjectStore, output: S3Location, result: MatchResult, written: Omit<WrittenOutput, 'parts'> & { parts: string[] }): Promise<number | undefined> {
  if (!result.state) return undefined;
  const state = result.state();
  const parts: WrittenOutput['parts'] = [];
  const prefix = asPrefix(output.key);
  for (const name of written.parts) {
    const info = await objects.headObject(output.bucket, prefix + name);
    if (!info) throw new Error(`${name} of the output is gone`);
    parts.push({ name, size: info.size, etag: info.etag });
  }
  state.written = {
    matchId: result.matchId,
    ...(written.confidence ? { confidence: result.confidence } : {}),
    output: JSON.stringify({ ...written, parts } satisfies WrittenOutput),
  };
  // A delta of the full state the run read, when there is one, it is not the state being replaced,
  // and the delta is small; else the whole state.
  const at = stateLocation(output);
  const base = state.base ? (JSON.parse(state.base.where) as StoredAt) : undefined;
  const replaced = base !== undefined && base.bucket === at.bucket && base.key === at.key;
  const chunks = (replaced ? undefined : encodeStateDelta(state)) ?? encodeState(state);
  const info = await objects.putObject(at.bucket, at.key, (async function* () { yield* chunks; })(), { contentType: 'application/octet-stream' });
  return info.size;
}

/**
 * What the records a state stands for were written as: the output's format, its columns in order,
 * and its part files (names under the output path, sizes, ETags). An incremental run whose existing
 * output still lists exactly these parts takes the records' match ids from the state instead of
 * reading them, and copies the parts into its own output when it writes the same format and columns.
 */
export interface WrittenOutput {
  format: OutputFormat;
  columns: string[];
  confidence: boolean;
  parts: Array<{ name: string; size: number; etag: string }>;
}

/** Why the output at `existing` is not the one the state's records were written as, or undefined when it is. */
export function writtenOutputProblem(state: IncrementalState, existing: S3Location, listed: readonly ObjectInfo[]): string | undefined {
  if (!state.written) return 'the state does not say where its records were written';
  let written: WrittenOutput;
  try {
    written = JSON.parse(state.written.output) as WrittenOutput;
  } catch {
    return 'the state\'s record of its output cannot be read';
  }
  const prefix = asPrefix(existing.key);
  const names = listed.map((o) => o.key.slice(prefix.length));
  if (names.length !== written.parts.length || names.some((n, i) => n !== written.parts[i]!.name)) {
    return `its part files are ${names.join(', ') || 'none'}, the state's records were written as ${written.parts.map((p) => p.name).join(', ')}`;
  }
  const changed = written.parts.find((p, i) => p.size !== listed[i]!.size || p.etag !== listed[i]!.etag);
  if (changed) return `${changed.name} changed since the state was written (size or ETag)`;
  return undefined;
}

/** Removes a state a previous run left at this output (its records are being replaced). */
export async function removeIncrementalState(objects: ObjectStore, output: S3Location): Promise<void> {
  const at = stateLocation(output);
  if (await objects.headObject(at.bucket, at.key)) await objects.deleteObject(at.bucket, at.key);
}

/**
 * The state kept beside the existing matches, or why there is none to use (absent, unreadable,
 * damaged, another version): the run then prepares the existing records itself.
 */
export async function readIncrementalState(objects: ObjectStore, existing: S3Location): Promise<{ state: IncrementalState } | { problem: string }> {
  const at = stateLocation(existing);
  if (!(await objects.headObject(at.bucket, at.key))) return { problem: 'there is none beside the existing matches' };
  try {
    const read = await readObject(objects, at);
    const baseWhere = deltaBase(read.bytes);
    if (baseWhere === undefined) {
      const state = decodeState(read.bytes, { where: whereOf(at, read.info) });
      return state instanceof Error ? { problem: state.message } : { state };
    }
    // A delta: the full state it extends lies beside an earlier output, as it was then.
    const base = JSON.parse(baseWhere) as StoredAt;
    const uri = formatS3Uri(base);
    const info = await objects.headObject(base.bucket, base.key);
    if (!info || info.etag !== base.etag) return { problem: `it extends the state at ${uri}, which ${info ? 'has changed since' : 'is gone'}` };
    const full = await readObject(objects, base);
    if (full.info.etag !== base.etag) return { problem: `it extends the state at ${uri}, which has changed since` };
    const state = decodeState(read.bytes, { base: full.bytes });
    return state instanceof Error ? { problem: state.message } : { state };
  } catch (e) {
    return { problem: `it cannot be read (${e instanceof Error ? e.message : String(e)})` };
  }
}

/** Where a full state is stored, as a delta names it: the object and its ETag then. */
interface StoredAt {
  bucket: string;
  key: string;
  etag: string;
}

const whereOf = (at: S3Location, info: ObjectInfo) => JSON.stringify({ bucket: at.bucket, key: at.key, etag: info.etag } satisfies StoredAt);

/** An object's bytes, read whole (checked against the size it was listed with). */
export async function readObject(objects: ObjectStore, at: S3Location): Promise<{ info: ObjectInfo; bytes: Uint8Array }> {
  const { info, body } = await objects.getObject(at.bucket, at.key);
  const bytes = Buffer.allocUnsafe(info.size);
  let length = 0;
  for await (const chunk of body) {
    const c = chunk as Uint8Array;
    if (length + c.length > bytes.length) throw new Error('it changed while being read');
    bytes.set(c, length);
    length += c.length;
  }
  return { info, bytes: bytes.subarray(0, length) };
}
