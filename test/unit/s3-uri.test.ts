/**
 * The one S3 URI parser in its two spellings: Glue's own paths (task S3 paths, strict) and table
 * Locations (Hadoop's s3a:// and s3n:// too, no bucket-name check), with the errors each reports.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseS3Location } from '../../src/catalog/table-data/location.js';
import { TableDataError } from '../../src/catalog/table-data/table-data-error.js';
import { parseS3Uri, S3UriError, splitS3Uri } from '../../src/storage/s3-uri.js';

describe('parseS3Uri (Glue paths)', () => {
  it('splits bucket and key; the key may be empty, a prefix, or hold any character', () => {
    assert.deepEqual(parseS3Uri('s3://bucket/a/b.csv'), { bucket: 'bucket', key: 'a/b.csv' });
    assert.deepEqual(parseS3Uri('s3://bucket'), { bucket: 'bucket', key: '' });
    assert.deepEqual(parseS3Uri('s3://bucket/out/'), { bucket: 'bucket', key: 'out/' });
    assert.deepEqual(parseS3Uri('s3://bucket/line\nbreak'), { bucket: 'bucket', key: 'line\nbreak' });
  });

  it('takes only s3:// and names what is wrong', () => {
    for (const uri of ['s3a://bucket/k', 'S3://bucket/k', ' s3://bucket/k', '/local/path']) {
      assert.throws(() => parseS3Uri(uri), new S3UriError(`${uri} is not an S3 URI (expected s3://bucket/key)`));
    }
    assert.throws(() => parseS3Uri('s3:///k'), new S3UriError("s3:///k: '' is not a valid bucket name"));
    assert.throws(() => parseS3Uri('s3://Bad_Bucket/k'), new S3UriError("s3://Bad_Bucket/k: 'Bad_Bucket' is not a valid bucket name"));
  });
});

describe('parseS3Location (table Locations)', () => {
  it("also takes Hadoop's spellings, in any case, around white space, with any bucket name", () => {
    assert.deepEqual(parseS3Location('s3n://bucket/a/'), { bucket: 'bucket', key: 'a/' });
    assert.deepEqual(parseS3Location('S3A://bucket/a'), { bucket: 'bucket', key: 'a' });
    assert.deepEqual(parseS3Location('  s3://bucket/a/  '), { bucket: 'bucket', key: 'a/' });
    assert.deepEqual(parseS3Location('s3://Bad_Bucket/a'), { bucket: 'Bad_Bucket', key: 'a' });
  });

  it('refuses anything else, an empty bucket and a line break in the key, as a TableDataError', () => {
    for (const location of ['s3x://bucket/a', 's3:///a', 's3://bucket/line\nbreak', 'hdfs://node/a']) {
      assert.throws(
        () => parseS3Location(location),
        (e: unknown) =>
          e instanceof TableDataError && e.message === `Location "${location}" is not an S3 location (s3://bucket/prefix/).`,
      );
    }
  });
});

describe('splitS3Uri', () => {
  it('returns undefined for what is not an S3 URI in the spelling asked for', () => {
    assert.equal(splitS3Uri('s3a://bucket/k'), undefined);
    assert.deepEqual(splitS3Uri('s3a://bucket/k', 'hadoop'), { bucket: 'bucket', key: 'k' });
  });
});
