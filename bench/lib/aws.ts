/**
 * The user's side of the benchmark: Glue and S3 calls through the AWS SDKs, as anyone using doppel
 * would make them (waiting for task runs and job runs, reading and writing S3 objects).
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseCsv } from 'csv-parse';
import {
  CreateMLTransformCommand,
  CreateTableCommand,
  GetJobRunCommand,
  GetMLTaskRunCommand,
  GlueClient,
  type GetJobRunCommandOutput,
  type GetMLTaskRunCommandOutput,
  type JobRunState,
  type TaskStatusType,
} from '@aws-sdk/client-glue';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { CREDENTIALS, REGION } from './server.js';

export function glueClient(endpoint: string): GlueClient {
  return new GlueClient({ endpoint, region: REGION, credentials: CREDENTIALS });
}

export function s3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
}

const signer = new SignatureV4({ credentials: CREDENTIALS, region: REGION, service: 'glue', sha256: Sha256 });

/** Attempts of a read-only raw call whose request got no HTTP answer at all. */
const RAW_READ_ATTEMPTS = 3;

/**
 * One SigV4-signed Glue call answered as raw JSON. The SDKs drop response members the Glue model
 * does not have, so doppel's extension members (README "doppel extensions") are read this way.
 * Throws on an error answer, with its `__type` and message. A read (Get…, List…) that got no answer
 * (typically a keep-alive connection the server closed as the request went out, likely when its
 * event loop was busy) is sent again, as the SDKs retry such transient errors.
 */
export async function rawGlueCall(
  endpoint: string,
  operation: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const url = new URL(endpoint);
  const body = JSON.stringify(input);
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', host: url.host, 'x-amz-target': `AWSGlue.${operation}` },
    body,
  });
  const signed = await signer.sign(request);
  const attempts = /^(Get|List)/.test(operation) ? RAW_READ_ATTEMPTS : 1;
  let res: Response | undefined;
  for (let attempt = 1; res === undefined; attempt += 1) {
    try {
      res = await fetch(endpoint, { method: 'POST', headers: signed.headers, body });
    } catch (e) {
      if (attempt >= attempts) throw new Error(`${operation}: no answer after ${attempt} attempt(s): ${describeError(e)}`);
      await sleep(100 * attempt);
    }
  }
  const text = await res.text();
  let out: Record<string, unknown>;
  try {
    out = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${operation}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (res.status !== 200) {
    throw new Error(`${operation}: HTTP ${res.status} ${String(out['__type'] ?? '')}: ${String(out['Message'] ?? out['message'] ?? '')}`);
  }
  return out;
}

/** A non-negative number from a raw answer, or null. */
export const rawNumber = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** doppel's extension counts of the FIND_MATCHES task run behind a job run (null when not reported). */
export interface FindMatchesRunStats {
  taskRunId: string | null;
  candidatePairs: number | null;
  scoredPairs: number | null;
  matchedPairs: number | null;
  matchGroups: number | null;
}

type RawTaskRun = { TaskRunId?: string; Properties?: { FindMatchesTaskRunProperties?: Record<string, unknown> } };

/** The FIND_MATCHES task run behind a job run (GetMLTaskRuns, newest first), or null when not (yet) listed. */
export async function findMatchesTaskRunId(endpoint: string, transformId: string, jobRunId: string): Promise<string | null> {
  let token: unknown;
  do {
    const page = await rawGlueCall(endpoint, 'GetMLTaskRuns', {
      TransformId: transformId,
      Filter: { TaskRunType: 'FIND_MATCHES' },
      ...(token !== undefined ? { NextToken: token } : {}),
    });
    const runs = (page['TaskRuns'] as RawTaskRun[] | undefined) ?? [];
    const id = runs.find((r) => r.Properties?.FindMatchesTaskRunProperties?.['JobRunId'] === jobRunId)?.TaskRunId;
    if (id !== undefined) return id;
    token = page['NextToken'];
  } while (token !== undefined);
  return null;
}

/** Every task run of a transform as the server answers it (raw GetMLTaskRuns, all pages). */
export async function listTaskRunsRaw(endpoint: string, transformId: string): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let token: unknown;
  do {
    const page = await rawGlueCall(endpoint, 'GetMLTaskRuns', {
      TransformId: transformId,
      ...(token !== undefined ? { NextToken: token } : {}),
    });
    for (const r of (page['TaskRuns'] as Array<Record<string, unknown>> | undefined) ?? []) out.push(r);
    token = page['NextToken'];
  } while (token !== undefined);
  return out;
}

/**
 * Finds the FIND_MATCHES task run of a job run and reads its FindMatchesTaskRunProperties with a
 * raw GetMLTaskRun.
 */
export async function findMatchesRunStats(endpoint: string, transformId: string, jobRunId: string): Promise<FindMatchesRunStats> {
  const taskRunId = await findMatchesTaskRunId(endpoint, transformId, jobRunId);
  if (taskRunId === null) {
    return { taskRunId: null, candidatePairs: null, scoredPairs: null, matchedPairs: null, matchGroups: null };
  }
  const run = (await rawGlueCall(endpoint, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId })) as RawTaskRun;
  const p = run.Properties?.FindMatchesTaskRunProperties ?? {};
  return {
    taskRunId,
    candidatePairs: rawNumber(p['CandidatePairCount']),
    scoredPairs: rawNumber(p['ScoredPairCount']),
    matchedPairs: rawNumber(p['MatchedPairCount']),
    matchGroups: rawNumber(p['MatchGroupCount']),
  };
}

/** doppel's BlockingRecall from the transform's EvaluationMetrics (raw GetMLTransform), or null. */
export async function evaluationBlockingRecall(endpoint: string, transformId: string): Promise<number | null> {
  const t = await rawGlueCall(endpoint, 'GetMLTransform', { TransformId: transformId });
  const m = (t['EvaluationMetrics'] as { FindMatchesMetrics?: Record<string, unknown> } | undefined)?.FindMatchesMetrics;
  return rawNumber(m?.['BlockingRecall']);
}

/** `s3://bucket/key` → parts. */
export function splitS3(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// path: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

export async function putObject(s3: S3Client, uri: string, body: string | Uint8Array): Promise<void> {
  const { bucket, key } = splitS3(uri);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/**
 * Uploads a file as one multipart upload, each part streamed from disk (never the whole file in
 * memory); the last part may be smaller than `partBytes` (S3's minimum for the others is 5 MiB).
 * A failed upload is aborted.
 */
export async function uploadFileMultipart(s3: S3Client, path: string, uri: string, partBytes = 64 * 2 ** 20): Promise<number> {
  const { bucket, key } = splitS3(uri);
  const size = statSync(path).size;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  try {
    const parts: Array<{ ETag: string; PartNumber: number }> = [];
    for (let start = 0, n = 1; start < size || n === 1; start += partBytes, n += 1) {
      const length = Math.min(partBytes, size - start);
      const body = length > 0 ? createReadStream(path, { start, end: start + length - 1 }) : new Uint8Array();
      const out = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body, ContentLength: length }),
      );
      parts.push({ ETag: out.ETag!, PartNumber: n });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
    );
  } catch (e) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
    throw e;
  }
  return size;
}

export async function getObjectBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) return new Uint8Array();
  return out.Body.transformToByteArray();
}

export interface ListedObject {
  key: string;
  size: number;
}

export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * The keys of the data part files under an output prefix (doppel's output convention:
 * `part-NNNNN.<ext>` and `_SUCCESS` written last), in name order. Fails when `_SUCCESS` is missing
 * (incomplete output). Markers, empty objects and anything under a `.`/`_` segment are not data, as
 * Glue reads folders.
 */
export async function listOutputParts(s3: S3Client, uri: string): Promise<{ bucket: string; keys: string[] }> {
  const { bucket, key } = splitS3(uri);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const objects = await listObjects(s3, bucket, prefix);
  if (!objects.some((o) => o.key === `${prefix}_SUCCESS`)) {
    throw new Error(
      `no _SUCCESS under ${uri} (objects: ${objects.map((o) => o.key.slice(prefix.length)).join(', ') || 'none'})`,
    );
  }
  const keys = objects
    .filter((o) => o.size > 0 && !o.key.endsWith('_$folder$'))
    .filter((o) => !o.key.slice(prefix.length).split('/').some((seg) => seg.startsWith('.') || seg.startsWith('_')))
    .map((o) => o.key)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { bucket, keys };
}

/** The data part files under an output prefix, read whole (see listOutputParts). */
export async function readOutputParts(s3: S3Client, uri: string): Promise<Array<{ key: string; bytes: Uint8Array }>> {
  const { bucket, keys } = await listOutputParts(s3, uri);
  const out: Array<{ key: string; bytes: Uint8Array }> = [];
  for (const key of keys) out.push({ key, bytes: await getObjectBytes(s3, bucket, key) });
  return out;
}

/**
 * The `idColumn` and `match_id` columns of a CSV FindMatches output, streamed part by part (an
 * output of millions of rows is never held as bytes or as row objects).
 */
export async function readOutputMatchIds(
  s3: S3Client,
  uri: string,
  idColumn: string,
): Promise<{ ids: string[]; matchIds: string[] }> {
  const { bucket, keys } = await listOutputParts(s3, uri);
  const ids: string[] = [];
  const matchIds: string[] = [];
  for (const key of keys) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) continue;
    let idAt = -1;
    let matchAt = -1;
    for await (const row of (out.Body as Readable).pipe(parseCsv({ bom: true, skip_empty_lines: true })) as AsyncIterable<string[]>) {
      if (idAt < 0) {
        idAt = row.indexOf(idColumn);
        matchAt = row.indexOf('match_id');
        if (idAt < 0 || matchAt < 0) throw new Error(`${key}: needs columns ${idColumn} and match_id; has ${row.join(', ')}`);
        continue;
      }
      ids.push(row[idAt]!);
      matchIds.push(row[matchAt]!);
    }
  }
  return { ids, matchIds };
}

const TASK_TERMINAL: readonly TaskStatusType[] = ['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED'];

/** Polls GetMLTaskRun until the run ends; returns it when SUCCEEDED, throws otherwise. */
export async function waitForTaskRun(
  glue: GlueClient,
  transformId: string,
  taskRunId: string,
  what: string,
  timeoutMs: number,
): Promise<GetMLTaskRunCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    const run = await glue.send(new GetMLTaskRunCommand({ TransformId: transformId, TaskRunId: taskRunId }));
    if (run.Status && TASK_TERMINAL.includes(run.Status)) {
      if (run.Status === 'SUCCEEDED') return run;
      throw new Error(`${what} task run ${taskRunId} ended ${run.Status}: ${run.ErrorString ?? '(no ErrorString)'}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} task run ${taskRunId} still ${run.Status} after ${Math.round(timeoutMs / 1000)} s`);
    }
    await sleep(delay);
    delay = Math.min(1000, Math.round(delay * 1.5));
  }
}

const JOB_TERMINAL: readonly JobRunState[] = ['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMEOUT', 'ERROR', 'EXPIRED'];

/** Polls GetJobRun until the run ends; returns it when SUCCEEDED, throws otherwise. */
export async function waitForJobRun(
  glue: GlueClient,
  jobName: string,
  runId: string,
  timeoutMs: number,
): Promise<GetJobRunCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    const out = await glue.send(new GetJobRunCommand({ JobName: jobName, RunId: runId }));
    const state = out.JobRun?.JobRunState;
    if (state && JOB_TERMINAL.includes(state)) {
      if (state === 'SUCCEEDED') return out;
      throw new Error(`job run ${runId} of ${jobName} ended ${state}: ${out.JobRun?.ErrorMessage ?? '(no ErrorMessage)'}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`job run ${runId} of ${jobName} still ${state} after ${Math.round(timeoutMs / 1000)} s`);
    }
    await sleep(delay);
    delay = Math.min(1000, Math.round(delay * 1.5));
  }
}

/** A short description of an SDK error: its name and message, and its cause's (fetch puts the network error there). */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
    const cause = e.cause === undefined ? '' : ` (cause: ${describeError(e.cause)})`;
    return `${name}${e.message}${cause}`;
  }
  return String(e);
}

/**
 * A catalog table over the CSV files under `location` as the benchmarks define it: OpenCSVSerde,
 * header skipped, every column a string.
 */
export async function createCsvTable(
  glue: GlueClient,
  database: string,
  table: string,
  columns: readonly string[],
  location: string,
): Promise<void> {
  await glue.send(
    new CreateTableCommand({
      DatabaseName: database,
      TableInput: {
        Name: table,
        TableType: 'EXTERNAL_TABLE',
        Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
        StorageDescriptor: {
          Columns: columns.map((c) => ({ Name: c, Type: 'string' })),
          Location: location,
          InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          SerdeInfo: {
            SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
            Parameters: { separatorChar: ',', quoteChar: '"' },
          },
        },
      },
    }),
  );
}

/** A FIND_MATCHES transform over one table; unset tradeoffs keep the service's defaults. */
export async function createFindMatchesTransform(
  glue: GlueClient,
  opts: { name: string; role: string; database: string; table: string; primaryKey: string; precisionRecall?: number; accuracyCost?: number },
): Promise<string> {
  const created = await glue.send(
    new CreateMLTransformCommand({
      Name: opts.name,
      Role: opts.role,
      InputRecordTables: [{ DatabaseName: opts.database, TableName: opts.table }],
      Parameters: {
        TransformType: 'FIND_MATCHES',
        FindMatchesParameters: {
          PrimaryKeyColumnName: opts.primaryKey,
          ...(opts.precisionRecall !== undefined ? { PrecisionRecallTradeoff: opts.precisionRecall } : {}),
          ...(opts.accuracyCost !== undefined ? { AccuracyCostTradeoff: opts.accuracyCost } : {}),
        },
      },
    }),
  );
  return created.TransformId!;
}

/** An integer command-line option, at least `min`. */
export function intOption(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${text}`);
  return n;
}
