import { GetMLTaskRunCommand, GetMLTransformCommand, GetTableCommand, type GetMLTaskRunResponse, type GetMLTransformResponse } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
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

const isFinished = (status: string | undefined) => status === 'SUCCEEDED' || status === 'FAILED' || status === 'STOPPED' || status === 'TIMEOUT';

/** Polls a task run until it ends, reporting each status; throws with its ErrorString unless it SUCCEEDED. */
export async function waitForTaskRun(
  session: Session,
  transformId: string,
  taskRunId: string,
  onStatus: (run: GetMLTaskRunResponse) => void,
): Promise<GetMLTaskRunResponse> {
  for (;;) {
    const run = await session.glue.send(new GetMLTaskRunCommand({ TransformId: transformId, TaskRunId: taskRunId }));
    onStatus(run);
    if (isFinished(run.Status)) {
      if (run.Status !== 'SUCCEEDED') throw new Error(`task run ${taskRunId} ${run.Status}: ${run.ErrorString ?? ''}`);
      return run;
    }
    await sleep(1000);
  }
}

export function getTransform(session: Session, transformId: string): Promise<GetMLTransformResponse> {
  return session.glue.send(new GetMLTransformCommand({ TransformId: transformId }));
}

/**
 * Where the UI keeps a transform's files (labeling sets, labels, find-matches output): beside its
 * table's data, in that table's bucket, which the user's account can write.
 */
export async function workspace(session: Session, transform: GetMLTransformResponse): Promise<string> {
  const table = transform.InputRecordTables?.[0];
  if (!table) throw new Error('the transform has no input table');
  const answer = await session.glue.send(new GetTableCommand({ DatabaseName: table.DatabaseName!, Name: table.TableName! }));
  const location = answer.Table?.StorageDescriptor?.Location;
  if (!location) throw new Error(`table ${table.DatabaseName}.${table.TableName} has no location`);
  return `s3://${parseS3Path(location).bucket}/doppel-ui/${transform.TransformId}/`;
}

/** A name for one run's files, in time order. */
export const stamp = () => new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15) + '-' + Math.random().toString(36).slice(2, 6);
