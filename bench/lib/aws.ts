/**
 * The user's side of the benchmark: Glue and S3 calls through the AWS SDKs, as anyone using doppel
 * would make them (waiting for task runs and job runs, reading and writing S3 objects).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetJobRunCommand,
  GetMLTaskRunCommand,
  GlueClient,
  type GetJobRunCommandOutput,
  type GetMLTaskRunCommandOutput,
  type JobRunState,
  type TaskStatusType,
} from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CREDENTIALS, REGION } from './server.js';

export function glueClient(endpoint: string): GlueClient {
  return new GlueClient({ endpoint, region: REGION, credentials: CREDENTIALS });
}

export function s3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
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
 * The data part files under an output prefix (doppel's output convention: `part-NNNNN.<ext>` and
 * `_SUCCESS` written last). Fails when `_SUCCESS` is missing (incomplete output). Markers, empty
 * objects and anything under a `.`/`_` segment are not data, as Glue reads folders.
 */
export async function readOutputParts(s3: S3Client, uri: string): Promise<Array<{ key: string; bytes: Uint8Array }>> {
  const { bucket, key } = splitS3(uri);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const objects = await listObjects(s3, bucket, prefix);
  if (!objects.some((o) => o.key === `${prefix}_SUCCESS`)) {
    throw new Error(
      `no _SUCCESS under ${uri} (objects: ${objects.map((o) => o.key.slice(prefix.length)).join(', ') || 'none'})`,
    );
  }
  const data = objects
    .filter((o) => o.size > 0 && !o.key.endsWith('_$folder$'))
    .filter((o) => !o.key.slice(prefix.length).split('/').some((seg) => seg.startsWith('.') || seg.startsWith('_')))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: Array<{ key: string; bytes: Uint8Array }> = [];
  for (const o of data) out.push({ key: o.key, bytes: await getObjectBytes(s3, bucket, o.key) });
  return out;
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

/** A short description of an SDK error: its name and message. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
    return `${name}${e.message}`;
  }
  return String(e);
}
