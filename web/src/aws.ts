import { Sha256 } from '@aws-crypto/sha256-js';
import { GetMLTransformCommand, GetTableCommand, type GetMLTransformResponse } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { CsvParser } from './csv.js';
import { sleep } from './dom.js';
import type { Session } from './session.js';

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Path(path: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(path);
  if (!m) throw new Error(`not an s3:// path: ${path}`);
  return { bucket: m[1]!, key: m[2]! };
}

export async function readText(session: Session, path: string): Promise<string> {
  const { bucket, key } = parseS3Path(path);
  const answer = await session.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return answer.Body!.transformToString();
}

/** Characters of CSV parsed between two looks at the clock. */
const CSV_SLICE = 1 << 16;

/**
 * Reads a CSV object as a stream, handing its rows to `onRows` a chunk at a time and giving the
 * page a turn every 30 ms of parsing, so a file of a hundred thousand records never freezes it.
 */
export async function streamCsv(session: Session, path: string, onRows: (rows: string[][]) => void): Promise<void> {
  const { bucket, key } = parseS3Path(path);
  const answer = await session.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const reader = answer.Body!.transformToWebStream().pipeThrough(new TextDecoderStream()).getReader();
  const parser = new CsvParser();
  let turn = performance.now();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // A chunk can be megabytes when the data arrives fast: parsed a slice at a time.
    for (let at = 0; at < value.length; at += CSV_SLICE) {
      onRows(parser.push(value.slice(at, at + CSV_SLICE)));
      if (performance.now() - turn > 30) {
        await sleep(0);
        turn = performance.now();
      }
    }
  }
  onRows(parser.end());
}

export async function writeText(session: Session, path: string, text: string, contentType: string): Promise<void> {
  const { bucket, key } = parseS3Path(path);
  await session.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }));
}

/** The data files (part-*) under an output path, in name order. */
export async function partFiles(session: Session, prefix: string): Promise<string[]> {
  const { bucket, key } = parseS3Path(prefix);
  const answer = await session.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
  return (answer.Contents ?? [])
    .map((o) => o.Key!)
    .filter((k) => /\/part-[^/]*$/.test(k))
    .sort()
    .map((k) => `s3://${bucket}/${k}`);
}

/** A point of doppel's precision-recall curve: the held-out pairs scored at or above Threshold taken as matches. */
export interface PRPoint {
  Threshold: number;
  Precision: number;
  Recall: number;
}

/** FindMatchesMetrics as the server answers them, with doppel's members the SDK's model drops. */
export interface RawFindMatchesMetrics {
  Precision?: number;
  Recall?: number;
  F1?: number;
  AreaUnderPRCurve?: number;
  ConfusionMatrix?: { NumTruePositives?: number; NumFalsePositives?: number; NumTrueNegatives?: number; NumFalseNegatives?: number };
  ColumnImportances?: Array<{ ColumnName?: string; Importance?: number }>;
  PrecisionRecallCurve?: { Points: PRPoint[]; OperatingPoint: PRPoint };
  /** How many audit pairs Precision, Recall and BlockingRecall were each counted on (doppel's member). */
  AuditPairCounts?: { Precision: number; Recall: number; BlockingRecall: number };
}

/** A task run as the server answers it, with doppel's members the SDK's model drops (Progress). */
export interface RawTaskRun {
  TaskRunId: string;
  Status: string;
  ErrorString?: string;
  ExecutionTime?: number;
  /** Epoch seconds. */
  StartedOn?: number;
  Properties?: {
    TaskType?: string;
    FindMatchesTaskRunProperties?: { JobRunId?: string };
    /** doppel's, on a SUCCEEDED evaluation: its metrics and the labeled rows they were measured on. */
    EvaluationTaskRunProperties?: { LabelCount: number; EvaluationMetrics: { FindMatchesMetrics: RawFindMatchesMetrics } };
  };
  Progress?: { Stage: string; Percent: number };
}

/**
 * A Glue call signed here and sent with fetch, answered as raw JSON: the SDK parses by Glue's
 * model and drops doppel's extra members (README "doppel extensions"), the task runs' Progress
 * among them.
 */
export async function rawGlueCall(session: Session, operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const url = new URL(window.location.origin);
  const body = JSON.stringify(input);
  const signer = new SignatureV4({
    service: 'glue',
    region: session.credentials.region,
    credentials: { accessKeyId: session.credentials.accessKeyId, secretAccessKey: session.credentials.secretAccessKey },
    sha256: Sha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', host: url.host, 'x-amz-target': `AWSGlue.${operation}` },
      body,
    }),
  );
  // The browser sets Host itself (to the same value); fetch refuses to be given it.
  const { host: _host, ...headers } = signed.headers;
  const res = await fetch(url.origin + '/', { method: 'POST', headers, body });
  const out = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${operation}: ${String(out['__type'] ?? res.status)}: ${String(out['Message'] ?? out['message'] ?? '')}`);
  return out;
}

const isFinished = (status: string | undefined) => status === 'SUCCEEDED' || status === 'FAILED' || status === 'STOPPED' || status === 'TIMEOUT';

/** A run's status, with its stage and percent done while it reports progress. */
export const describeRun = (run: RawTaskRun) => (run.Progress ? `${run.Status} ${run.Progress.Percent}% ${run.Progress.Stage}` : run.Status);

/** Polls a task run until it ends, reporting each answer; throws with its ErrorString unless it SUCCEEDED. */
export async function waitForTaskRun(session: Session, transformId: string, taskRunId: string, onStatus: (run: RawTaskRun) => void): Promise<RawTaskRun> {
  for (;;) {
    const run = (await rawGlueCall(session, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId })) as unknown as RawTaskRun;
    onStatus(run);
    if (isFinished(run.Status)) {
      if (run.Status !== 'SUCCEEDED') throw new Error(`task run ${taskRunId} ${run.Status}: ${run.ErrorString ?? ''}`);
      return run;
    }
    await sleep(1000);
  }
}

/** The transform's latest task runs (newest first), of one type if given. */
export async function latestTaskRuns(session: Session, transformId: string, max: number, type?: string): Promise<RawTaskRun[]> {
  const answer = await rawGlueCall(session, 'GetMLTaskRuns', { TransformId: transformId, MaxResults: max, ...(type ? { Filter: { TaskRunType: type } } : {}) });
  return (answer['TaskRuns'] as RawTaskRun[] | undefined) ?? [];
}

/** Every task run of one type and status of a transform, oldest first (GetMLTaskRuns pages newest first). */
export async function allTaskRuns(session: Session, transformId: string, type: string, status: string): Promise<RawTaskRun[]> {
  const runs: RawTaskRun[] = [];
  let token: string | undefined;
  do {
    const answer = await rawGlueCall(session, 'GetMLTaskRuns', {
      TransformId: transformId,
      MaxResults: 100,
      Filter: { TaskRunType: type, Status: status },
      ...(token ? { NextToken: token } : {}),
    });
    runs.push(...((answer['TaskRuns'] as RawTaskRun[] | undefined) ?? []));
    token = answer['NextToken'] as string | undefined;
  } while (token);
  return runs.reverse();
}

/** The transform's latest EvaluationMetrics with doppel's members (the precision-recall curve), read raw. */
export async function latestMetrics(session: Session, transformId: string): Promise<RawFindMatchesMetrics | undefined> {
  const answer = await rawGlueCall(session, 'GetMLTransform', { TransformId: transformId });
  return (answer['EvaluationMetrics'] as { FindMatchesMetrics?: RawFindMatchesMetrics } | undefined)?.FindMatchesMetrics;
}

export function getTransform(session: Session, transformId: string): Promise<GetMLTransformResponse> {
  return session.glue.send(new GetMLTransformCommand({ TransformId: transformId }));
}

/**
 * Where the UI keeps a transform's files (labeling sets, labels, find-matches output): in its
 * table's bucket, which the user's account can write, under a hidden (`_`) folder, because a table
 * whose Location is the bucket's root would otherwise read these files as its own records.
 */
export async function workspace(session: Session, transform: GetMLTransformResponse): Promise<string> {
  const table = transform.InputRecordTables?.[0];
  if (!table) throw new Error('the transform has no input table');
  const answer = await session.glue.send(new GetTableCommand({ DatabaseName: table.DatabaseName!, Name: table.TableName! }));
  const location = answer.Table?.StorageDescriptor?.Location;
  if (!location) throw new Error(`table ${table.DatabaseName}.${table.TableName} has no location`);
  return `s3://${parseS3Path(location).bucket}/_doppel-ui/${transform.TransformId}/`;
}

/** A name for one run's files, in time order. */
export const stamp = () => new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15) + '-' + Math.random().toString(36).slice(2, 6);
