/**
 * Buckets belong to the account that created them. Two credentials of different accounts, through
 * @aws-sdk/client-s3 and @aws-sdk/client-glue: account B cannot list, read, write, copy, upload
 * parts to or delete anything of account A's (AccessDenied, as S3 answers), nor create a bucket
 * under A's name (BucketAlreadyExists); ListBuckets lists the caller's buckets only; and B's task
 * runs fail with an ErrorString naming the bucket when pointed at A's table data, label files or
 * output paths, while A's objects stay exactly as they were.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateDatabaseCommand,
  GetJobRunCommand,
  StartExportLabelsTaskRunCommand,
  StartImportLabelsTaskRunCommand,
  StartJobRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createFindMatchesJob, createOpenCsvTransform, glueClient, waitForRun } from '../support/glue-client.js';
import { rawS3Request, s3Client, silenceSdkNodeVersionWarning } from '../support/s3-tools.js';
import { DEFAULT_ACCOUNT_ID, startServer, stopAndRemove, twoAccountEnv, type TestServer } from '../support/server.js';

silenceSdkNodeVersionWarning();

const B = { accessKeyId: 'AKIDTENANTB', secretAccessKey: 'tenant-b-secret' };
const B_ACCOUNT = '210987654321';
const A_BUCKET = 'tenant-a';
const B_BUCKET = 'tenant-b';

/** 40 people, every fourth one twice (a second row with another id): enough for the matcher to train on. */
const PEOPLE_CSV = [
  'id,name,email,city',
  ...Array.from({ length: 40 }, (_, i) => {
    const person = Math.floor(i / 2);
    const twin = i % 2 === 1 && person % 2 === 0;
    return `p${i},${twin ? `Person ${person}` : `person number ${i}`},${twin ? `person${person}@example.com` : `someone${i}@example.org`},City ${i % 5}`;
  }),
].join('\n') + '\n';
/** Labeling sets: a matching pair (the two rows of person 0) and non-matching rows. */
const LABELS_CSV =
  ['labeling_set_id,label,id,name,email,city', 'set-1,A,p0,person number 0,someone0@example.org,City 0',
    'set-1,A,p1,Person 0,person0@example.com,City 1', 'set-1,B,p2,person number 2,someone2@example.org,City 2',
    'set-2,A,p4,person number 4,someone4@example.org,City 4', 'set-2,A,p5,Person 2,person2@example.com,City 0',
    'set-2,B,p6,person number 6,someone6@example.org,City 1'].join('\n') + '\n';

let server: TestServer;
let a: S3Client;
let b: S3Client;
let glueB: GlueClient;

before(async () => {
  server = await startServer({ env: twoAccountEnv(B, B_ACCOUNT) });
  a = s3Client(server);
  b = s3Client(server, { credentials: B });
  glueB = glueClient(server, { credentials: B });
  for (const [client, bucket] of [[a, A_BUCKET], [b, B_BUCKET]] as const) {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'people/people.csv', Body: PEOPLE_CSV }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'labels/labels.csv', Body: LABELS_CSV }));
  }
});

after(async () => {
  a?.destroy();
  b?.destroy();
  glueB?.destroy();
  await stopAndRemove(server);
});

/** AccessDenied, 403, "Access Denied"; for HEAD requests, which have no body to name the error, the 403. */
async function expectAccessDenied(call: Promise<unknown>, what: string, head = false): Promise<void> {
  await assert.rejects(call, (e: unknown) => {
    const error = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(error.$metadata?.httpStatusCode, 403, `${what}: ${String(e)}`);
    if (!head) {
      assert.equal(error.name, 'AccessDenied', what);
      assert.equal(error.message, 'Access Denied', what);
    }
    return true;
  }, what);
}

/** A's bucket, key by key with content, as A sees it. */
async function contentsOfA(): Promise<Record<string, string>> {
  const listed = await a.send(new ListObjectsV2Command({ Bucket: A_BUCKET }));
  const contents: Record<string, string> = {};
  for (const object of listed.Contents ?? []) {
    const got = await a.send(new GetObjectCommand({ Bucket: A_BUCKET, Key: object.Key! }));
    contents[object.Key!] = await got.Body!.transformToString();
  }
  return contents;
}

const ORIGINAL_A = { 'labels/labels.csv': LABELS_CSV, 'people/people.csv': PEOPLE_CSV };

describe('S3 buckets belong to the account that created them', () => {
  it('ListBuckets lists only the caller’s buckets, each with its own owner', async () => {
    const ofA = await a.send(new ListBucketsCommand({}));
    const ofB = await b.send(new ListBucketsCommand({}));
    assert.deepEqual(ofA.Buckets?.map((bucket) => bucket.Name), [A_BUCKET]);
    assert.deepEqual(ofB.Buckets?.map((bucket) => bucket.Name), [B_BUCKET]);
    assert.equal(ofA.Owner?.DisplayName, DEFAULT_ACCOUNT_ID);
    assert.equal(ofB.Owner?.DisplayName, B_ACCOUNT);
    assert.match(ofA.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(ofA.Owner?.ID, ofB.Owner?.ID);
  });

  it('another account cannot list, read or look at the bucket or its objects', async () => {
    await expectAccessDenied(b.send(new ListObjectsV2Command({ Bucket: A_BUCKET })), 'ListObjectsV2');
    await expectAccessDenied(b.send(new ListObjectsCommand({ Bucket: A_BUCKET })), 'ListObjects');
    await expectAccessDenied(b.send(new GetObjectCommand({ Bucket: A_BUCKET, Key: 'people/people.csv' })), 'GetObject');
    await expectAccessDenied(b.send(new GetObjectCommand({ Bucket: A_BUCKET, Key: 'missing' })), 'GetObject of a missing key');
    await expectAccessDenied(b.send(new HeadObjectCommand({ Bucket: A_BUCKET, Key: 'people/people.csv' })), 'HeadObject', true);
    await expectAccessDenied(b.send(new HeadBucketCommand({ Bucket: A_BUCKET })), 'HeadBucket', true);
    await expectAccessDenied(b.send(new GetBucketLocationCommand({ Bucket: A_BUCKET })), 'GetBucketLocation');
  });

  it('another account cannot put, overwrite, delete or delete-many objects, nor delete the bucket', async () => {
    await expectAccessDenied(b.send(new PutObjectCommand({ Bucket: A_BUCKET, Key: 'people/people.csv', Body: 'id\nevil\n' })), 'PutObject over');
    await expectAccessDenied(b.send(new PutObjectCommand({ Bucket: A_BUCKET, Key: 'planted.csv', Body: 'x' })), 'PutObject new');
    await expectAccessDenied(b.send(new DeleteObjectCommand({ Bucket: A_BUCKET, Key: 'labels/labels.csv' })), 'DeleteObject');
    await expectAccessDenied(
      b.send(new DeleteObjectsCommand({ Bucket: A_BUCKET, Delete: { Objects: [{ Key: 'people/people.csv' }, { Key: 'labels/labels.csv' }] } })),
      'DeleteObjects',
    );
    await expectAccessDenied(b.send(new DeleteBucketCommand({ Bucket: A_BUCKET })), 'DeleteBucket');
    assert.deepEqual(await contentsOfA(), ORIGINAL_A);
  });

  it('another account cannot copy out of the bucket or into it', async () => {
    await expectAccessDenied(
      b.send(new CopyObjectCommand({ Bucket: B_BUCKET, Key: 'stolen.csv', CopySource: `${A_BUCKET}/people/people.csv` })),
      'CopyObject from A',
    );
    await expectAccessDenied(
      b.send(new CopyObjectCommand({ Bucket: A_BUCKET, Key: 'people/people.csv', CopySource: `${B_BUCKET}/labels/labels.csv` })),
      'CopyObject into A',
    );
    await assert.rejects(b.send(new HeadObjectCommand({ Bucket: B_BUCKET, Key: 'stolen.csv' })), { name: 'NotFound' });
    assert.deepEqual(await contentsOfA(), ORIGINAL_A);
  });

  it('another account cannot start, feed, list, complete or abort multipart uploads in the bucket', async () => {
    await expectAccessDenied(b.send(new CreateMultipartUploadCommand({ Bucket: A_BUCKET, Key: 'mp' })), 'CreateMultipartUpload');
    const { UploadId } = await a.send(new CreateMultipartUploadCommand({ Bucket: A_BUCKET, Key: 'mp' }));
    const own = await a.send(new UploadPartCommand({ Bucket: A_BUCKET, Key: 'mp', UploadId, PartNumber: 1, Body: 'by A' }));
    await expectAccessDenied(b.send(new UploadPartCommand({ Bucket: A_BUCKET, Key: 'mp', UploadId, PartNumber: 1, Body: 'by B' })), 'UploadPart');
    await expectAccessDenied(
      b.send(new UploadPartCopyCommand({ Bucket: A_BUCKET, Key: 'mp', UploadId, PartNumber: 2, CopySource: `${B_BUCKET}/labels/labels.csv` })),
      'UploadPartCopy into A',
    );
    await expectAccessDenied(b.send(new ListPartsCommand({ Bucket: A_BUCKET, Key: 'mp', UploadId })), 'ListParts');
    await expectAccessDenied(
      b.send(new CompleteMultipartUploadCommand({ Bucket: A_BUCKET, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: own.ETag }] } })),
      'CompleteMultipartUpload',
    );
    await expectAccessDenied(b.send(new AbortMultipartUploadCommand({ Bucket: A_BUCKET, Key: 'mp', UploadId })), 'AbortMultipartUpload');
    // B's own upload cannot take a part copied from A's object.
    const mine = await b.send(new CreateMultipartUploadCommand({ Bucket: B_BUCKET, Key: 'mp' }));
    await expectAccessDenied(
      b.send(new UploadPartCopyCommand({ Bucket: B_BUCKET, Key: 'mp', UploadId: mine.UploadId, PartNumber: 1, CopySource: `${A_BUCKET}/people/people.csv` })),
      'UploadPartCopy from A',
    );
    await b.send(new AbortMultipartUploadCommand({ Bucket: B_BUCKET, Key: 'mp', UploadId: mine.UploadId }));
    // A's upload is untouched: its one part is A's, and A completes it.
    const parts = await a.send(new ListPartsCommand({ Bucket: A_BUCKET, Key: 'mp', UploadId }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, own.ETag, 4]]);
    await a.send(new CompleteMultipartUploadCommand({ Bucket: A_BUCKET, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: own.ETag }] } }));
    const got = await a.send(new GetObjectCommand({ Bucket: A_BUCKET, Key: 'mp' }));
    assert.equal(await got.Body!.transformToString(), 'by A');
    await a.send(new DeleteObjectCommand({ Bucket: A_BUCKET, Key: 'mp' }));
  });

  it("creating another account's bucket name answers BucketAlreadyExists; one's own, 200 in us-east-1, BucketAlreadyOwnedByYou elsewhere", async () => {
    await assert.rejects(b.send(new CreateBucketCommand({ Bucket: A_BUCKET })), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, 'BucketAlreadyExists');
      assert.equal(e.$metadata?.httpStatusCode, 409);
      return true;
    });
    await a.send(new CreateBucketCommand({ Bucket: A_BUCKET }));
    const inFrankfurt = s3Client(server, { region: 'eu-central-1' });
    try {
      await assert.rejects(
        inFrankfurt.send(new CreateBucketCommand({ Bucket: A_BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } })),
        { name: 'BucketAlreadyOwnedByYou' },
      );
    } finally {
      inFrankfurt.destroy();
    }
    assert.deepEqual(await contentsOfA(), ORIGINAL_A);
  });

  it('a missing bucket is NoSuchBucket to every account, and a deleted bucket’s name is free for any', async () => {
    await assert.rejects(b.send(new ListObjectsV2Command({ Bucket: 'nobody-owns-this' })), { name: 'NoSuchBucket' });
    await a.send(new CreateBucketCommand({ Bucket: 'passed-on' }));
    await expectAccessDenied(b.send(new PutObjectCommand({ Bucket: 'passed-on', Key: 'k', Body: 'x' })), 'PutObject before delete');
    await a.send(new DeleteBucketCommand({ Bucket: 'passed-on' }));
    await b.send(new CreateBucketCommand({ Bucket: 'passed-on' }));
    await b.send(new PutObjectCommand({ Bucket: 'passed-on', Key: 'k', Body: 'x' }));
    await expectAccessDenied(a.send(new GetObjectCommand({ Bucket: 'passed-on', Key: 'k' })), 'GetObject by the old owner');
    await b.send(new DeleteObjectCommand({ Bucket: 'passed-on', Key: 'k' }));
    await b.send(new DeleteBucketCommand({ Bucket: 'passed-on' }));
  });

  it('the refusal is the S3 error document with the request id, and reveals nothing of the object', async () => {
    const response = await rawS3Request(server, { method: 'GET', target: `/${A_BUCKET}/people/people.csv`, credentials: B });
    assert.equal(response.status, 403);
    const body = response.body.toString();
    assert.match(body, /<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/);
    assert.ok(response.headers['x-amz-request-id']);
    assert.doesNotMatch(body, /person number/);
  });
});

describe("task runs read and write only their own account's buckets", () => {
  let ownTable: string;
  let transformId: string;

  /** A CSV table `table` of B's over `location`, and B's transform on it. */
  const transformOfB = (table: string, location: string) =>
    createOpenCsvTransform(glueB, { database: 'tenant_b', table, columns: ['id', 'name', 'email', 'city'], location, name: `tenant-b-${table}` });

  const deniedA = (path: string) =>
    new RegExp(
      `${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\. Access Denied: bucket ${A_BUCKET} belongs to another account, and account ${B_ACCOUNT} may use only its own buckets\\.`,
    );

  before(async () => {
    await glueB.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'tenant_b' } }));
    ownTable = 'own_people';
    transformId = await transformOfB(ownTable, `s3://${B_BUCKET}/people/`);
  });

  it("a label import from A's bucket fails naming the file and the bucket; from B's own it succeeds", async () => {
    const path = `s3://${A_BUCKET}/labels/labels.csv`;
    const refused = await glueB.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: path }));
    const failed = await waitForRun(glueB, transformId, refused.TaskRunId!, undefined, 60_000);
    assert.equal(failed.Status, 'FAILED');
    assert.match(failed.ErrorString ?? '', new RegExp(`^Cannot access the label file at ${deniedA(path).source}$`));

    const own = await glueB.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `s3://${B_BUCKET}/labels/labels.csv` }));
    const imported = await waitForRun(glueB, transformId, own.TaskRunId!, undefined, 60_000);
    assert.equal(imported.Status, 'SUCCEEDED', imported.ErrorString);
  });

  it("a label export into A's bucket fails naming the path and writes nothing there", async () => {
    const path = `s3://${A_BUCKET}/people/`;
    const refused = await glueB.send(new StartExportLabelsTaskRunCommand({ TransformId: transformId, OutputS3Path: path }));
    const failed = await waitForRun(glueB, transformId, refused.TaskRunId!, undefined, 60_000);
    assert.equal(failed.Status, 'FAILED');
    assert.match(failed.ErrorString ?? '', new RegExp(`^Cannot write to ${deniedA(path).source}$`));
    assert.deepEqual(await contentsOfA(), ORIGINAL_A);
  });

  it("a labeling-set run over a table in A's bucket fails naming the table and the bucket", async () => {
    const peeking = await transformOfB('peeking', `s3://${A_BUCKET}/people/`);
    const run = await glueB.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: peeking, OutputS3Path: `s3://${B_BUCKET}/sets/` }),
    );
    const failed = await waitForRun(glueB, peeking, run.TaskRunId!, undefined, 60_000);
    assert.equal(failed.Status, 'FAILED');
    assert.match(
      failed.ErrorString ?? '',
      /^Cannot read table tenant_b\.peeking: Access Denied: bucket tenant-a belongs to another account, and account 210987654321 may use only its own buckets\.$/,
    );
    const written = await b.send(new ListObjectsV2Command({ Bucket: B_BUCKET, Prefix: 'sets/' }));
    assert.equal(written.KeyCount, 0);
  });

  it("a FindMatches job run writing to A's bucket fails naming the output path; A's bucket is unchanged", async () => {
    const outputPath = `s3://${A_BUCKET}/people/`;
    await createFindMatchesJob(glueB, { name: 'tenant-b-matches', transformId, defaultArguments: { '--output-path': outputPath } });
    const { JobRunId } = await glueB.send(new StartJobRunCommand({ JobName: 'tenant-b-matches' }));
    const deadline = Date.now() + 120_000;
    let run;
    do {
      await sleep(100);
      run = (await glueB.send(new GetJobRunCommand({ JobName: 'tenant-b-matches', RunId: JobRunId }))).JobRun;
    } while (!['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED', 'ERROR'].includes(run?.JobRunState ?? '') && Date.now() < deadline);
    assert.equal(run?.JobRunState, 'FAILED', run?.ErrorMessage);
    assert.match(run?.ErrorMessage ?? '', new RegExp(`^Cannot write to ${deniedA(outputPath).source}$`));
    assert.deepEqual(await contentsOfA(), ORIGINAL_A);
  });
});
