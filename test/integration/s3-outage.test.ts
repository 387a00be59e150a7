/**
 * An outage of the external S3-compatible store in the middle of writing a find-matches output:
 * s3rver is SIGKILLed as soon as the run starts writing into the output bucket. The run must fail
 * with an error that says what happened, leave no `_SUCCESS` marker (readers take the folder as
 * incomplete), and a new run after the store comes back (a restart on the same data) must succeed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatabaseCommand,
  GetJobRunCommand,
  StartImportLabelsTaskRunCommand,
  StartJobRunCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { writePeopleDataset } from '../../bench/lib/synthetic-people.js';
import { createFindMatchesJob, createOpenCsvTransform, glueClient, waitForJobRun, waitForRun, waitForTransform } from '../support/glue-client.js';
import { s3Client } from '../support/s3-tools.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startServer, type TestServer } from '../support/server.js';

/** Enough rows that the output goes up as a multipart upload of several parts, so a write takes a while. */
const RECORDS = 100_000;
const INPUT = 'lake';
const OUTPUT = 'results';
const JOB = 'people-matches';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Every path under `dir`, relative to it. */
function listTree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [prefix + e.name + '/', ...listTree(join(dir, e.name), prefix + e.name + '/')] : [prefix + e.name],
  );
}

/**
 * Labels from the truth: sets of one entity's records (one label) with two records of other
 * entities, so the transform has both matches and non-matches.
 */
function labelsCsv(truthCsv: string, sets: number): string {
  const truth = parse(truthCsv, { columns: true }) as Array<{ id: string; entity_id: string }>;
  const byEntity = new Map<string, string[]>();
  for (const { id, entity_id } of truth) byEntity.set(entity_id, [...(byEntity.get(entity_id) ?? []), id]);
  const groups = [...byEntity.values()].filter((ids) => ids.length >= 2);
  const singles = [...byEntity.values()].filter((ids) => ids.length === 1).map((ids) => ids[0]!);
  const lines = ['labeling_set_id,label,id'];
  for (let s = 0; s < sets; s++) {
    const set = `set-${s}`;
    for (const id of groups[s * 7]!) lines.push(`${set},A,${id}`);
    lines.push(`${set},B,${singles[s * 2]!}`, `${set},C,${singles[s * 2 + 1]!}`);
  }
  return lines.join('\n') + '\n';
}

describe('S3 outage while a find-matches output is written', { timeout: 600_000 }, () => {
  let s3rver: S3rver | undefined;
  let server: TestServer;
  let glue: GlueClient;
  let external: S3Client;
  let tmp: string;
  let s3rverDir: string;
  let port: number;
  let skipReason: string | undefined;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'doppel-s3-outage-'));
    s3rverDir = join(tmp, 's3rver');
    port = await freePort();
    try {
      s3rver = await startS3rver({ dataDir: s3rverDir, port });
    } catch (e) {
      skipReason = `s3rver could not start: ${(e as Error).message}`;
      return;
    }
    server = await startServer({
      env: {
        DOPPEL_S3_ENDPOINT: s3rver.endpoint,
        DOPPEL_S3_ACCESS_KEY_ID: s3rver.accessKeyId,
        DOPPEL_S3_SECRET_ACCESS_KEY: s3rver.secretAccessKey,
      },
    });
    glue = glueClient(server);
    external = s3Client(s3rver, { credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey } });
    const data = join(tmp, 'people');
    await writePeopleDataset({ records: RECORDS, seed: 11, outDir: data });
    await external.send(new CreateBucketCommand({ Bucket: INPUT }));
    await external.send(new CreateBucketCommand({ Bucket: OUTPUT }));
    await external.send(new PutObjectCommand({ Bucket: INPUT, Key: 'people/records.csv', Body: readFileSync(join(data, 'records.csv')) }));
    await external.send(
      new PutObjectCommand({ Bucket: INPUT, Key: 'labels/labels.csv', Body: labelsCsv(readFileSync(join(data, 'truth.csv'), 'utf8'), 40) }),
    );
    const header = readFileSync(join(data, 'records.csv'), 'utf8').slice(0, 500).split('\n')[0]!.split(',');
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'crm' } }));
    const transformId = await createOpenCsvTransform(glue, { database: 'crm', table: 'people', columns: header, location: `s3://${INPUT}/people/`, name: 'people' });
    const { TaskRunId } = await glue.send(
      new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `s3://${INPUT}/labels/labels.csv` }),
    );
    const imported = await waitForRun(glue, transformId, TaskRunId!, undefined, 120_000);
    assert.equal(imported.Status, 'SUCCEEDED', imported.ErrorString);
    await waitForTransform(glue, transformId, (t) => t.Status === 'READY');
    await createFindMatchesJob(glue, { name: JOB, transformId, defaultArguments: { '--output-path': `s3://${OUTPUT}/matches/` } });
  });

  after(async () => {
    glue?.destroy();
    external?.destroy();
    await server?.stop();
    await server?.cleanup();
    await s3rver?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the run fails clearly without _SUCCESS, and runs again once the store is back', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const outputDir = join(s3rverDir, OUTPUT);
    const before = new Set(listTree(outputDir));
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: JOB }));
    // Cut the store off at the first sign of the output being written.
    let cut = false;
    while (!cut) {
      const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: JOB, RunId: JobRunId! }));
      assert.ok(['STARTING', 'RUNNING', 'WAITING'].includes(JobRun!.JobRunState!), `the run ended (${JobRun!.JobRunState}) before it wrote`);
      for (let i = 0; i < 20 && !cut; i++) {
        if (listTree(outputDir).some((p) => !before.has(p))) {
          await s3rver!.kill();
          cut = true;
        } else await sleep(5);
      }
    }
    const failed = await waitForJobRun(glue, JOB, JobRunId!, 300_000);
    t.diagnostic(`failed run: ${failed.ErrorMessage}`);
    assert.equal(failed.JobRunState, 'FAILED');
    assert.match(failed.ErrorMessage ?? '', /s3:\/\/results\/matches\//);
    assert.match(failed.ErrorMessage ?? '', /ECONNREFUSED|connect|unreachable|socket|network/i);

    s3rver = await startS3rver({ dataDir: s3rverDir, port });
    const keys = async () =>
      ((await external.send(new ListObjectsV2Command({ Bucket: OUTPUT, Prefix: 'matches/' }))).Contents ?? []).map((o) => o.Key!);
    assert.ok(!(await keys()).includes('matches/_SUCCESS'), 'an interrupted output has no _SUCCESS');

    const { JobRunId: againId } = await glue.send(new StartJobRunCommand({ JobName: JOB }));
    const again = await waitForJobRun(glue, JOB, againId!, 300_000);
    assert.equal(again.JobRunState, 'SUCCEEDED', again.ErrorMessage);
    const written = await keys();
    assert.ok(written.includes('matches/_SUCCESS'));
    let rows = 0;
    for (const key of written.filter((k) => /part-\d+\.csv$/.test(k))) {
      const body = await (await external.send(new GetObjectCommand({ Bucket: OUTPUT, Key: key }))).Body!.transformToString();
      rows += (parse(body, { columns: true }) as unknown[]).length;
    }
    assert.equal(rows, RECORDS);
  });
});
