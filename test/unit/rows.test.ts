/**
 * The record → row converters of rows.ts against the row → record converters beside them: every
 * member of a record, optional ones set or absent, survives the trip through its row, which is
 * what both metadata stores write and read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CrawlerRecord } from '../../src/storage/crawler-store.js';
import type { JobRecord, JobRunRecord } from '../../src/storage/job-store.js';
import type { DatabaseRecord, PartitionRecord, TableRecord, TaskRunRecord, TransformRecord } from '../../src/storage/records.js';
import {
  crawlerRow,
  databaseRow,
  jobRow,
  jobRunRow,
  partitionRow,
  tableRow,
  tableVersionRowOf,
  taskRunRow,
  toCrawler,
  toDatabase,
  toJob,
  toJobRun,
  toPartition,
  toTable,
  toTableVersion,
  toTaskRun,
  toTransform,
  transformRow,
} from '../../src/storage/rows.js';

const scope = { accountId: '123456789012', region: 'eu-west-1' };

/** The members that are set: a converter may spell an absent optional member as `undefined`. */
const present = (record: object) => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));

describe('metadata rows', () => {
  it('transforms, databases, tables and table versions', () => {
    const transform: TransformRecord = {
      ...scope, id: 'tfm-1', name: 'people', status: 'READY', createdOn: 1, lastModifiedOn: 2, labelCount: 40,
      doc: { Description: 'd', Parameters: { TransformType: 'FIND_MATCHES' } },
    };
    assert.deepEqual(toTransform(transformRow(transform)), transform);
    const database: DatabaseRecord = { ...scope, catalogId: scope.accountId, name: 'eats', createdOn: 3, doc: { Name: 'eats' } };
    assert.deepEqual(toDatabase(databaseRow(database)), database);
    const table: TableRecord = {
      ...scope, catalogId: scope.accountId, databaseName: 'eats', name: 'restaurants', createdOn: 4, updatedOn: 5, versionId: 2,
      createdBy: 'arn:aws:iam::123456789012:user/x', doc: { Name: 'restaurants', StorageDescriptor: { Columns: [] } },
    };
    assert.deepEqual(toTable(tableRow(table)), table);
    assert.deepEqual(toTableVersion(tableVersionRowOf(tableRow(table))), table);
  });

  it('partitions: their values as one key that keeps separators apart', () => {
    const partition: PartitionRecord = {
      ...scope, catalogId: scope.accountId, databaseName: 'eats', tableName: 'restaurants', values: ['2024', 'a,b', ''],
      createdOn: 6, doc: { StorageDescriptor: { Location: 's3://b/k/' } },
    };
    assert.deepEqual(toPartition(partitionRow(partition)), partition);
    assert.notEqual(partitionRow({ ...partition, values: ['a,b'] }).partition_values, partitionRow({ ...partition, values: ['a', 'b'] }).partition_values);
  });

  it('task runs, with and without their optional members', () => {
    const starting: TaskRunRecord = {
      ...scope, id: 'tsk-1', transformId: 'tfm-1', taskType: 'IMPORT_LABELS', status: 'STARTING',
      properties: { ImportLabelsTaskRunProperties: { InputS3Path: 's3://b/k', Replace: false } }, args: { partOf: 'jr' },
      startedOn: 7, lastModifiedOn: 7, executionMs: 0, attempt: 1, interruptions: 0,
    };
    assert.deepEqual(present(toTaskRun(taskRunRow(starting))), starting);
    const ended: TaskRunRecord = {
      ...starting, status: 'FAILED', errorString: 'boom', completedOn: 9, executionMs: 120, attempt: 2, interruptions: 1,
      leaseOwner: 'node-a', leaseExpiresAt: 10, leaseRenewedAt: 8, runningSince: 8, deadlineAt: 100,
      progress: { stage: 'scoring', percent: 40, updatedOn: 8 },
    };
    assert.deepEqual(toTaskRun(taskRunRow(ended)), ended);
  });

  it('jobs, job runs and crawlers', () => {
    const job: JobRecord = { ...scope, name: 'match', createdOn: 1, lastModifiedOn: 2, doc: { Command: { Name: 'findmatches' } } };
    assert.deepEqual(toJob(jobRow(job)), job);
    const waiting: JobRunRecord = { ...scope, jobName: 'match', id: 'jr_1', startedOn: 3, lastModifiedOn: 3, arguments: { '--x': 'y' }, doc: {} };
    assert.deepEqual(present(toJobRun(jobRunRow(waiting))), waiting);
    const settled: JobRunRecord = {
      ...waiting, transformId: 'tfm-1', taskRunId: 'tsk-1', state: 'FAILED', errorMessage: 'no', completedOn: 4, doc: { Attempt: 0 },
    };
    assert.deepEqual(toJobRun(jobRunRow(settled)), settled);
    const crawler: CrawlerRecord = { ...scope, name: 'c', createdOn: 1, lastUpdated: 2, version: 3, doc: { Targets: {} } };
    assert.deepEqual(toCrawler(crawlerRow(crawler)), crawler);
  });
});
