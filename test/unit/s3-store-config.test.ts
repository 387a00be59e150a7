/** DOPPEL_S3_* configuration: defaults, credential fallback, and errors that name the variable. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { s3StoreConfigFrom } from '../../src/storage/s3/s3-object-store.js';

const endpoint = { DOPPEL_S3_ENDPOINT: 'http://127.0.0.1:9000' };

describe('s3StoreConfigFrom', () => {
  it('is undefined unless DOPPEL_S3_ENDPOINT is set', () => {
    assert.equal(s3StoreConfigFrom({}), undefined);
    assert.equal(s3StoreConfigFrom({ DOPPEL_S3_ENDPOINT: '', AWS_ACCESS_KEY_ID: 'a' }), undefined);
  });

  it('reads DOPPEL_S3_* with defaults for region and path style', () => {
    assert.deepEqual(
      s3StoreConfigFrom({ ...endpoint, DOPPEL_S3_ACCESS_KEY_ID: 'id', DOPPEL_S3_SECRET_ACCESS_KEY: 'secret' }),
      { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId: 'id', secretAccessKey: 'secret', forcePathStyle: true },
    );
    const full = s3StoreConfigFrom({
      DOPPEL_S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com/',
      DOPPEL_S3_ACCESS_KEY_ID: 'id',
      DOPPEL_S3_SECRET_ACCESS_KEY: 'secret',
      DOPPEL_S3_SESSION_TOKEN: 'token',
      DOPPEL_S3_REGION: 'eu-west-1',
      DOPPEL_S3_FORCE_PATH_STYLE: 'false',
    });
    assert.deepEqual(full, {
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      forcePathStyle: false,
    });
  });

  it('falls back to the AWS_* credentials as a pair', () => {
    const config = s3StoreConfigFrom({ ...endpoint, AWS_ACCESS_KEY_ID: 'aid', AWS_SECRET_ACCESS_KEY: 'asecret', AWS_SESSION_TOKEN: 'atoken' });
    assert.equal(config?.accessKeyId, 'aid');
    assert.equal(config?.secretAccessKey, 'asecret');
    assert.equal(config?.sessionToken, 'atoken');
    const own = s3StoreConfigFrom({
      ...endpoint,
      DOPPEL_S3_ACCESS_KEY_ID: 'id',
      DOPPEL_S3_SECRET_ACCESS_KEY: 'secret',
      AWS_ACCESS_KEY_ID: 'aid',
      AWS_SECRET_ACCESS_KEY: 'asecret',
      AWS_SESSION_TOKEN: 'atoken',
    });
    assert.equal(own?.accessKeyId, 'id');
    assert.equal(own?.sessionToken, undefined, "the AWS_* token does not belong to the DOPPEL_S3_* keys");
  });

  it('names the variable that is missing or malformed', () => {
    assert.throws(() => s3StoreConfigFrom(endpoint), /DOPPEL_S3_ACCESS_KEY_ID/);
    assert.throws(() => s3StoreConfigFrom({ ...endpoint, DOPPEL_S3_ACCESS_KEY_ID: 'id' }), /DOPPEL_S3_SECRET_ACCESS_KEY is missing/);
    assert.throws(() => s3StoreConfigFrom({ ...endpoint, DOPPEL_S3_SECRET_ACCESS_KEY: 's' }), /DOPPEL_S3_ACCESS_KEY_ID is missing/);
    assert.throws(() => s3StoreConfigFrom({ ...endpoint, AWS_ACCESS_KEY_ID: 'id' }), /AWS_SECRET_ACCESS_KEY is missing/);
    const keys = { DOPPEL_S3_ACCESS_KEY_ID: 'id', DOPPEL_S3_SECRET_ACCESS_KEY: 'secret' };
    assert.throws(() => s3StoreConfigFrom({ ...keys, DOPPEL_S3_ENDPOINT: 'localhost:9000' }), /DOPPEL_S3_ENDPOINT must be an http/);
    assert.throws(() => s3StoreConfigFrom({ ...keys, DOPPEL_S3_ENDPOINT: 'ftp://host' }), /DOPPEL_S3_ENDPOINT must be an http/);
    assert.throws(() => s3StoreConfigFrom({ ...keys, ...endpoint, DOPPEL_S3_REGION: 'US East' }), /DOPPEL_S3_REGION/);
    assert.throws(() => s3StoreConfigFrom({ ...keys, ...endpoint, DOPPEL_S3_FORCE_PATH_STYLE: 'maybe' }), /DOPPEL_S3_FORCE_PATH_STYLE/);
    for (const yes of ['1', 'true', 'TRUE', 'yes']) {
      assert.equal(s3StoreConfigFrom({ ...keys, ...endpoint, DOPPEL_S3_FORCE_PATH_STYLE: yes })?.forcePathStyle, true);
    }
  });
});
