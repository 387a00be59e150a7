/**
 * Signature Version 2 on the S3 endpoint, signed for real (HMAC-SHA1 over S3's V2 string to sign):
 * a presigned URL (AWSAccessKeyId / Signature / Expires, boto3's default presign) and an
 * `Authorization: AWS key:signature` header are both refused as S3 refuses them, 400 InvalidRequest
 * with S3's fixed message, and the Detail member says how to ask boto3 and the AWS CLI for Version 4.
 * (boto3's own presigned URL: test/python/test_s3_boto3.py.)
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { errorCode, rawS3Request, type RawResponse } from '../support/s3-tools.js';
import { startServer, stopAndRemove, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const BUCKET = 'sigv2-bucket';
let server: TestServer;

before(async () => {
  server = await startServer();
  assert.equal((await rawS3Request(server, { method: 'PUT', target: `/${BUCKET}` })).status, 200);
  assert.equal((await rawS3Request(server, { method: 'PUT', target: `/${BUCKET}/report.txt`, body: 'secret report' })).status, 200);
});

after(() => stopAndRemove(server));

/** S3's V2 signature: base64 HMAC-SHA1 of VERB \n Content-MD5 \n Content-Type \n Date-or-Expires \n resource. */
function signatureV2(method: string, dateOrExpires: string, resource: string, contentType = ''): string {
  const stringToSign = `${method}\n\n${contentType}\n${dateOrExpires}\n${resource}`;
  return createHmac('sha1', TEST_CREDENTIALS.secretAccessKey).update(stringToSign).digest('base64');
}

function element(response: RawResponse, name: string): string {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(response.body.toString('utf8'))?.[1] ?? '';
}

function assertRefusedAsVersion2(response: RawResponse, what: RegExp): void {
  assert.equal(response.status, 400, response.body.toString());
  assert.equal(errorCode(response), 'InvalidRequest');
  assert.equal(element(response, 'Message'), 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  const detail = element(response, 'Detail');
  assert.match(detail, what);
  assert.match(detail, /only Signature Version 4 \(AWS4-HMAC-SHA256\) is supported/);
  assert.match(detail, /signature_version=&apos;s3v4&apos;/);
  assert.match(detail, /aws configure set default\.s3\.signature_version s3v4/);
}

describe('Signature Version 2', () => {
  it('a V2 presigned GET URL is refused with InvalidRequest, the way to Signature Version 4 in Detail', async () => {
    const expires = String(Math.floor(Date.now() / 1000) + 300);
    const signature = signatureV2('GET', expires, `/${BUCKET}/report.txt`);
    const target = `/${BUCKET}/report.txt?AWSAccessKeyId=${TEST_CREDENTIALS.accessKeyId}&Signature=${encodeURIComponent(signature)}&Expires=${expires}`;
    const response = await rawS3Request(server, { method: 'GET', target, sign: false });
    assertRefusedAsVersion2(response, /^This presigned URL \(AWSAccessKeyId, Signature, Expires\) is signed with Signature Version 2/);
    assert.doesNotMatch(response.body.toString(), /secret report/);
  });

  it('a V2 presigned PUT URL is refused and stores nothing', async () => {
    const expires = String(Math.floor(Date.now() / 1000) + 300);
    const signature = signatureV2('PUT', expires, `/${BUCKET}/uploaded.txt`);
    const target = `/${BUCKET}/uploaded.txt?AWSAccessKeyId=${TEST_CREDENTIALS.accessKeyId}&Signature=${encodeURIComponent(signature)}&Expires=${expires}`;
    const response = await rawS3Request(server, { method: 'PUT', target, sign: false, body: 'via v2' });
    assertRefusedAsVersion2(response, /^This presigned URL .* is signed with Signature Version 2/);
    assert.equal((await rawS3Request(server, { method: 'HEAD', target: `/${BUCKET}/uploaded.txt` })).status, 404);
  });

  it('an `Authorization: AWS key:signature` header is refused with InvalidRequest, the way to Signature Version 4 in Detail', async () => {
    const date = new Date().toUTCString();
    for (const [method, target] of [
      ['GET', `/${BUCKET}/report.txt`],
      ['GET', '/'],
      ['DELETE', `/${BUCKET}/report.txt`],
    ] as const) {
      const authorization = `AWS ${TEST_CREDENTIALS.accessKeyId}:${signatureV2(method, date, target === '/' ? '/' : target)}`;
      const response = await rawS3Request(server, { method, target, sign: false, headers: { date, authorization } });
      assertRefusedAsVersion2(response, /^This request \(Authorization: AWS &lt;key&gt;:&lt;signature&gt;\) is signed with Signature Version 2/);
    }
    const kept = await rawS3Request(server, { method: 'GET', target: `/${BUCKET}/report.txt` });
    assert.equal(kept.body.toString(), 'secret report');
  });
});
