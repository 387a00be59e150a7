/**
 * The S3 endpoint's body decoding: aws-chunked framing against AWS's published SigV4 streaming
 * examples (same secret, date, chunk sizes and signatures as the S3 documentation), trailers,
 * checksums, and the routing of requests to operations.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeAwsChunked, signingKeyFor, type ChunkSigning } from '../../src/api/s3/payload/aws-chunked.js';
import { crc32c, startChecksum } from '../../src/api/s3/payload/checksums.js';
import { requestPayload } from '../../src/api/s3/payload/request-payload.js';
import { S3Error } from '../../src/api/s3/s3-errors.js';
import { parseAddress, resolveOperation } from '../../src/api/s3/s3-routing.js';
import { parseXml } from '../../src/api/s3/s3-xml.js';

// From the S3 documentation's streaming-signature examples ("Example: PUT Object").
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AMZ_DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const PLAIN = {
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  chunks: [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
};
const TRAILER = {
  seed: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
  chunks: [
    'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
    '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
    '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  ],
  trailer: 'x-amz-checksum-crc32c:sOO8/Q==',
  trailerSignature: 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435',
};
const DATA = [Buffer.alloc(65536, 'a'), Buffer.alloc(1024, 'a'), Buffer.alloc(0)];

function signing(seed: string): ChunkSigning {
  return { signingKey: signingKeyFor(SECRET, '20130524', 'us-east-1', 's3'), amzDate: AMZ_DATE, scope: SCOPE, seedSignature: seed };
}

function framed(signatures: string[], trailer?: { line: string; signature: string }): Buffer {
  const parts: Buffer[] = [];
  DATA.forEach((data, i) => {
    parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${signatures[i]}\r\n`), data);
    if (i < DATA.length - 1 || !trailer) parts.push(Buffer.from('\r\n'));
  });
  if (trailer) parts.push(Buffer.from(`${trailer.line}\r\nx-amz-trailer-signature:${trailer.signature}\r\n\r\n`));
  return Buffer.concat(parts);
}

/** Feeds `body` in pieces of the given sizes (cycled), as a network would. */
async function* pieces(body: Buffer, sizes = [7, 1, 4096, 3, 65537]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < body.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield body.subarray(offset, offset + size);
    offset += size;
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const chunk of source) out.push(chunk);
  return Buffer.concat(out);
}

function s3Code(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof S3Error, `expected S3Error ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

describe('aws-chunked decoding', () => {
  it('verifies the chunk signatures of AWS\'s STREAMING-AWS4-HMAC-SHA256-PAYLOAD example', async () => {
    const decoded = await collect(decodeAwsChunked(pieces(framed(PLAIN.chunks)), { signing: signing(PLAIN.seed), trailer: false }));
    assert.equal(decoded.length, 66560);
    assert.ok(decoded.every((byte) => byte === 0x61));
  });

  it('verifies the chunk and trailer signatures of AWS\'s ...-PAYLOAD-TRAILER example', async () => {
    let trailers: Map<string, string> | undefined;
    const body = framed(TRAILER.chunks, { line: TRAILER.trailer, signature: TRAILER.trailerSignature });
    const decoded = await collect(
      decodeAwsChunked(pieces(body), { signing: signing(TRAILER.seed), trailer: true, onTrailers: (t) => (trailers = t) }),
    );
    assert.equal(decoded.length, 66560);
    assert.equal(trailers?.get('x-amz-checksum-crc32c'), 'sOO8/Q==');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32c(decoded));
    assert.equal(crc.toString('base64'), 'sOO8/Q==');
  });

  it('rejects a wrong seed, a changed byte, a wrong trailer signature', async () => {
    const wrongSeed = signing(PLAIN.seed.replace(/^4/, '5'));
    await assert.rejects(collect(decodeAwsChunked(pieces(framed(PLAIN.chunks)), { signing: wrongSeed, trailer: false })), s3Code('SignatureDoesNotMatch'));
    const changed = framed(PLAIN.chunks);
    changed[changed.length - 200] = 0x62;
    await assert.rejects(collect(decodeAwsChunked(pieces(changed), { signing: signing(PLAIN.seed), trailer: false })), s3Code('SignatureDoesNotMatch'));
    const badTrailer = framed(TRAILER.chunks, { line: 'x-amz-checksum-crc32c:AAAAAA==', signature: TRAILER.trailerSignature });
    await assert.rejects(collect(decodeAwsChunked(pieces(badTrailer), { signing: signing(TRAILER.seed), trailer: true })), s3Code('SignatureDoesNotMatch'));
  });

  it('rejects truncated and malformed framing', async () => {
    const body = framed(PLAIN.chunks);
    await assert.rejects(collect(decodeAwsChunked(pieces(body.subarray(0, 60_000)), { signing: signing(PLAIN.seed), trailer: false })), s3Code('IncompleteBody'));
    await assert.rejects(collect(decodeAwsChunked(pieces(Buffer.from('zz\r\nabc')), { trailer: false })), s3Code('InvalidRequest'));
    await assert.rejects(collect(decodeAwsChunked(pieces(Buffer.from('3\r\nabcdef\r\n0\r\n\r\n')), { trailer: false })), s3Code('InvalidRequest'));
    await assert.rejects(collect(decodeAwsChunked(pieces(Buffer.from('3\r\nabc\r\n0\r\n\r\nextra')), { trailer: false })), s3Code('InvalidRequest'));
  });

  it('decodes the JS SDK\'s unsigned trailer framing, with and without the closing blank line', async () => {
    const withBlank = Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');
    let trailers: Map<string, string> | undefined;
    const decoded = await collect(decodeAwsChunked(pieces(withBlank, [1]), { trailer: true, onTrailers: (t) => (trailers = t) }));
    assert.equal(decoded.toString(), 'hello world');
    assert.equal(trailers?.get('x-amz-checksum-crc32'), 'DUoRhQ==');
    const bare = Buffer.from('5\r\nhello\r\n0\r\n');
    assert.equal((await collect(decodeAwsChunked(pieces(bare), { trailer: false }))).toString(), 'hello');
  });
});

describe('request payload checks', () => {
  const request = (body: string) => new Request('http://localhost/b/k', { method: 'PUT', body, duplex: 'half' } as RequestInit);

  it('checks a trailer checksum against the decoded body (BadDigest) and echoes verified ones', async () => {
    const headers = { 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-decoded-content-length': '11' };
    const good = requestPayload(request('b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n'), headers, { contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' });
    assert.equal((await collect(good.body)).toString(), 'hello world');
    assert.equal(good.verifiedChecksums.get('crc32'), 'DUoRhQ==');
    assert.equal(good.claimedAlgorithm, 'crc32');
    const bad = requestPayload(request('b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'), headers, { contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' });
    await assert.rejects(collect(bad.body), s3Code('BadDigest'));
    const short = requestPayload(request('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n'), headers, { contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' });
    await assert.rejects(collect(short.body), s3Code('IncompleteBody'));
  });

  it('checks a declared SHA-256, Content-MD5 and checksum headers', async () => {
    const sha = createHash('sha256').update('data').digest('hex');
    assert.equal((await collect(requestPayload(request('data'), {}, { contentSha256: sha }).body)).toString(), 'data');
    await assert.rejects(collect(requestPayload(request('DATA'), {}, { contentSha256: sha }).body), s3Code('XAmzContentSHA256Mismatch'));
    const md5 = createHash('md5').update('data').digest('base64');
    await assert.rejects(collect(requestPayload(request('DATA'), { 'content-md5': md5 }, {}).body), s3Code('BadDigest'));
    assert.throws(() => requestPayload(request('data'), { 'content-md5': 'not-md5' }, {}), s3Code('InvalidDigest'));
    const sha1 = createHash('sha1').update('data').digest('base64');
    assert.equal((await collect(requestPayload(request('data'), { 'x-amz-checksum-sha1': sha1 }, {}).body)).toString(), 'data');
    await assert.rejects(collect(requestPayload(request('DATA'), { 'x-amz-checksum-sha1': sha1 }, {}).body), s3Code('BadDigest'));
    // CompleteMultipartUpload's checksum headers describe the object it assembles, not its XML.
    const xml = requestPayload(request('<x/>'), { 'x-amz-checksum-sha1': sha1 }, {}, { checksumHeadersDescribeBody: false });
    assert.equal((await collect(xml.body)).toString(), '<x/>');
    assert.equal(xml.claimedAlgorithm, undefined);
  });

  it('computes the CRC-32C and CRC-64/NVME check values', async () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    const running = startChecksum('crc32c');
    running.update(Buffer.from('1234'));
    running.update(Buffer.from('56789'));
    assert.equal(await running.digest(), Buffer.from('e3069283', 'hex').toString('base64'));
    // The check value of CRC-64/NVME (the CRC RevEng catalogue): 0xae8b14860a799888.
    const crc64 = startChecksum('crc64nvme');
    crc64.update(Buffer.from('12345'));
    crc64.update(Buffer.from('6789'));
    assert.equal(await crc64.digest(), Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
  });
});

describe('S3 request routing', () => {
  it('reads bucket and key in path and virtual-hosted style, decoding the key once', () => {
    assert.deepEqual(pick(parseAddress('/bkt/a%2Fb/c%20d?x-id=GetObject', '127.0.0.1:1')), { bucket: 'bkt', key: 'a/b/c d' });
    assert.deepEqual(pick(parseAddress('/bkt/', 'localhost')), { bucket: 'bkt', key: undefined });
    assert.deepEqual(pick(parseAddress('/bkt//lead', 'localhost')), { bucket: 'bkt', key: '/lead' });
    assert.deepEqual(pick(parseAddress('/bkt/../../etc/passwd', 'localhost')), { bucket: 'bkt', key: '../../etc/passwd' });
    assert.deepEqual(pick(parseAddress('/bkt/%252e%252e', 'localhost')), { bucket: 'bkt', key: '%2e%2e' });
    assert.deepEqual(pick(parseAddress('/k/ey', 'my-bucket.localhost:4587')), { bucket: 'my-bucket', key: 'k/ey' });
    assert.deepEqual(pick(parseAddress('/', 'my.bucket.s3.localhost')), { bucket: 'my.bucket', key: undefined });
    assert.deepEqual(pick(parseAddress('/bkt/k', 's3.localhost:4587')), { bucket: 'bkt', key: 'k' });
    assert.deepEqual(pick(parseAddress('http://localhost:4587/bkt/k', 'localhost')), { bucket: 'bkt', key: 'k' });
    assert.throws(() => parseAddress('/bkt/%zz', 'localhost'), s3Code('InvalidURI'));
    assert.throws(() => parseAddress('/bkt/%ff', 'localhost'), s3Code('InvalidURI'));
  });

  it('maps methods and sub-resources to operations', () => {
    const op = (method: string, target: string, headers: Record<string, string> = {}) =>
      resolveOperation(method, parseAddress(target, 'localhost'), headers);
    assert.equal(op('GET', '/'), 'ListBuckets');
    assert.equal(op('GET', '/b?list-type=2&prefix=x'), 'ListObjectsV2');
    assert.equal(op('GET', '/b?marker=x'), 'ListObjects');
    assert.equal(op('GET', '/b?location'), 'GetBucketLocation');
    assert.equal(op('POST', '/b?delete'), 'DeleteObjects');
    assert.equal(op('PUT', '/b/k'), 'PutObject');
    assert.equal(op('PUT', '/b/k', { 'x-amz-copy-source': '/b/j' }), 'CopyObject');
    assert.equal(op('PUT', '/b/k?partNumber=1&uploadId=u'), 'UploadPart');
    assert.equal(op('PUT', '/b/k?partNumber=1&uploadId=u', { 'x-amz-copy-source': '/b/j' }), 'UploadPartCopy');
    assert.equal(op('POST', '/b/k?uploads'), 'CreateMultipartUpload');
    assert.equal(op('POST', '/b/k?uploadId=u'), 'CompleteMultipartUpload');
    assert.equal(op('DELETE', '/b/k?uploadId=u'), 'AbortMultipartUpload');
    assert.equal(op('GET', '/b/k?uploadId=u'), 'ListParts');
    assert.equal(op('GET', '/b/k?response-content-type=text/plain&X-Amz-Expires=60'), 'GetObject');
    assert.throws(() => op('GET', '/b?acl'), s3Code('NotImplemented'));
    assert.equal(op('GET', '/b/k?tagging'), 'GetObjectTagging');
    assert.equal(op('PUT', '/b/k?tagging'), 'PutObjectTagging');
    assert.equal(op('DELETE', '/b/k?tagging'), 'DeleteObjectTagging');
    assert.throws(() => op('PUT', '/b?tagging'), s3Code('NotImplemented'));
    assert.equal(op('GET', '/b?uploads&prefix=a&key-marker=k&upload-id-marker=u&max-uploads=2'), 'ListMultipartUploads');
    assert.throws(() => op('POST', '/b/k'), s3Code('MethodNotAllowed'));
    assert.throws(() => op('GET', '/b/k?versionId=3'), s3Code('InvalidArgument'));
  });

  it('parses request XML strictly and exactly', () => {
    const doc = parseXml('<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key> 0012 &amp;&#x41;</Key></Object></Delete>', 'Delete', ['Object']);
    assert.deepEqual(doc, { Object: [{ Key: ' 0012 &A' }] });
    assert.throws(() => parseXml('<Delete><Object></Delete>', 'Delete'), s3Code('MalformedXML'));
    assert.throws(() => parseXml('<Other/>', 'Delete'), s3Code('MalformedXML'));
    assert.throws(() => parseXml('<!DOCTYPE d [<!ENTITY x "y">]><Delete>&x;</Delete>', 'Delete'), s3Code('MalformedXML'));
  });
});

function pick(address: { bucket?: string; key?: string }) {
  return { bucket: address.bucket, key: address.key };
}
