/**
 * Request bodies are not read before the headers have passed every check that needs no body, the
 * bodies held in memory at once are bounded (charged as their bytes arrive), and a body that stops
 * arriving is given up after the idle timeout. Raw HTTP over sockets, so that a test controls
 * exactly how much of a body has been sent when the server answers: a refusal that arrives while
 * the body has not been sent at all was decided on the headers alone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { rawS3Request } from '../support/s3-tools.js';
import { startServer, stopAndRemove, TEST_CREDENTIALS, TEST_REGION, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;

interface Answer {
  status: number;
  head: string;
  body: string;
}

/**
 * Opens a connection, sends the request head and `sendFirst` bytes of the body, and resolves with
 * the answer as soon as it is complete (the rest of the body unsent) or rejects after `waitMs`.
 * `socket` lets the caller send the rest.
 */
function openRequest(server: TestServer, head: string, firstBytes: Buffer, waitMs = 5_000): { socket: Socket; answer: Promise<Answer> } {
  const url = new URL(server.endpoint);
  const socket = connect(Number(url.port), url.hostname);
  socket.write(head);
  if (firstBytes.length > 0) socket.write(firstBytes);
  const answer = new Promise<Answer>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no complete answer in ${waitMs} ms: ${received.toString()}`)), waitMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headText = text.slice(0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headText)?.[1] ?? 0);
      if (received.length - end - 4 < length) return;
      clearTimeout(timer);
      resolve({ status: Number(headText.split(' ')[1]), head: headText, body: received.subarray(end + 4, end + 4 + length).toString() });
    });
    socket.on('error', reject);
  });
  return { socket, answer };
}

/** The head of an HTTP/1.1 request, headers as given. */
function requestHead(method: string, path: string, headers: Record<string, string>): string {
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`;
}

/** Headers of a Glue call signed over `body` (with other credentials, another service or date when told). */
async function signedGlueHeaders(
  server: TestServer,
  body: Buffer,
  options: { credentials?: typeof TEST_CREDENTIALS; service?: string; signingDate?: Date } = {},
): Promise<Record<string, string>> {
  const url = new URL(server.endpoint);
  const signer = new SignatureV4({ credentials: options.credentials ?? TEST_CREDENTIALS, region: TEST_REGION, service: options.service ?? 'glue', sha256: Sha256 });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSGlue.ListMLTransforms', 'content-length': String(body.length) },
      body,
    }),
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  return signed.headers as Record<string, string>;
}

/** A Glue body of exactly `size` bytes: valid JSON, padded with spaces. */
const glueBody = (size: number) => Buffer.concat([Buffer.from('{}'), Buffer.alloc(size - 2, ' ')]);

describe('headers are checked before the body is read', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => stopAndRemove(server));

  it('Glue: no signature, an unknown key, another service, a stale date are refused with none of a 10 MB body sent', async () => {
    const body = glueBody(10 * MiB);
    const url = new URL(server.endpoint);
    const cases: Array<[string, Record<string, string>, string]> = [
      [
        'unsigned',
        { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSGlue.ListMLTransforms', 'content-length': String(body.length) },
        'MissingAuthenticationTokenException',
      ],
      ['unknown key', await signedGlueHeaders(server, body, { credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' } }), 'UnrecognizedClientException'],
      ['scoped to s3', await signedGlueHeaders(server, body, { service: 's3' }), 'InvalidSignatureException'],
      ['signed an hour ago', await signedGlueHeaders(server, body, { signingDate: new Date(Date.now() - 3600_000) }), 'InvalidSignatureException'],
    ];
    for (const [what, headers, type] of cases) {
      const { socket, answer } = openRequest(server, requestHead('POST', '/', headers), Buffer.alloc(0));
      try {
        const got = await answer;
        assert.equal(got.status, 403, what);
        assert.equal((JSON.parse(got.body) as { __type: string }).__type, type, what);
      } finally {
        socket.destroy();
      }
    }
  });

  it('Glue: a correctly signed request is read and answered once its body has arrived', async () => {
    const body = glueBody(1 * MiB);
    const { socket, answer } = openRequest(server, requestHead('POST', '/', await signedGlueHeaders(server, body)), body.subarray(0, MiB / 2));
    try {
      // Half of the body is not enough: no answer yet.
      const early = await Promise.race([answer.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 500))]);
      assert.equal(early, 'waiting');
      socket.write(body.subarray(MiB / 2));
      const got = await answer;
      assert.equal(got.status, 200, got.body);
      assert.deepEqual(JSON.parse(got.body), { TransformIds: [] });
    } finally {
      socket.destroy();
    }
  });

  it('S3: an unknown key and a stale date are refused before the body, also when no payload hash is declared', async () => {
    const url = new URL(server.endpoint);
    assert.equal((await rawS3Request(server, { method: 'PUT', target: '/early-bucket' })).status, 200);
    const body = Buffer.alloc(8 * MiB, 'x');
    for (const [what, credentials, signingDate, code] of [
      ['unknown key', { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' }, new Date(), 'InvalidAccessKeyId'],
      ['stale date', TEST_CREDENTIALS, new Date(Date.now() - 3600_000), 'RequestTimeTooSkewed'],
    ] as const) {
      for (const declareHash of [true, false]) {
        const signer = new SignatureV4({ credentials, region: TEST_REGION, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
        const headers: Record<string, string> = { host: url.host, 'content-length': String(body.length) };
        if (declareHash) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        const signed = await signer.sign(new HttpRequest({ method: 'PUT', protocol: 'http:', hostname: url.hostname, path: '/early-bucket/object', headers, body }), { signingDate });
        const sent = { ...(signed.headers as Record<string, string>) };
        if (!declareHash) delete sent['x-amz-content-sha256'];
        const { socket, answer } = openRequest(server, requestHead('PUT', '/early-bucket/object', sent), Buffer.alloc(0));
        try {
          const got = await answer;
          assert.equal(got.status, 403, `${what}, hash declared: ${declareHash}`);
          assert.match(got.body, new RegExp(`<Code>${code}</Code>`), `${what}, hash declared: ${declareHash}`);
        } finally {
          socket.destroy();
        }
      }
    }
    assert.equal((await rawS3Request(server, { method: 'HEAD', target: '/early-bucket/object' })).status, 404);
  });
});

describe('bodies held in memory at once are bounded (DOPPEL_MAX_BUFFERED_BODY_BYTES)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { DOPPEL_MAX_BODY_BYTES: String(MiB), DOPPEL_MAX_BUFFERED_BODY_BYTES: String(2 * MiB) } });
  });
  after(() => stopAndRemove(server));

  it('a body is charged as its bytes arrive: bodies declared but not sent hold none of the budget', async () => {
    const body = glueBody(MiB);
    const head = requestHead('POST', '/', await signedGlueHeaders(server, body));
    // Three bodies of 1 MiB declared (3 MiB, past the 2 MiB budget), a few bytes of each sent.
    const declaredOnly = [0, 1, 2].map(() => openRequest(server, head, body.subarray(0, 10)));
    await new Promise((r) => setTimeout(r, 300));
    const whole = openRequest(server, head, body);
    try {
      const got = await whole.answer;
      assert.equal(got.status, 200, got.body);
    } finally {
      whole.socket.destroy();
      for (const { socket, answer } of declaredOnly) {
        socket.destroy();
        answer.catch(() => undefined);
      }
    }
  });

  it('past the budget a Glue request is answered 503 ServiceUnavailableException at once; room comes back when bodies are done', async () => {
    const body = glueBody(MiB);
    const head = requestHead('POST', '/', await signedGlueHeaders(server, body));
    // Two bodies of 1 MiB in flight, all but their last byte sent: the 2 MiB budget is held.
    const held = [openRequest(server, head, body.subarray(0, MiB - 1)), openRequest(server, head, body.subarray(0, MiB - 1))];
    // Bytes are charged once the server has read them: ask (sending no body, so holding nothing)
    // until it has. The probe declares a body smaller than the S3 body below, so its refusal means
    // less room is left than that body needs; a 1 MiB probe is refused while the second held body
    // is still only half charged.
    const probeBody = glueBody(16);
    const probeHead = requestHead('POST', '/', await signedGlueHeaders(server, probeBody));
    let got: Answer | undefined;
    for (let attempt = 0; attempt < 20 && !got; attempt++) {
      const probe = openRequest(server, probeHead, Buffer.alloc(0), 250);
      got = await probe.answer.catch(() => undefined);
      probe.socket.destroy();
    }
    assert.ok(got, 'the server never refused the request past its budget');
    assert.equal(got.status, 503);
    const error = JSON.parse(got.body) as { __type: string; Message: string };
    assert.equal(error.__type, 'ServiceUnavailableException');
    assert.match(error.Message, /DOPPEL_MAX_BUFFERED_BODY_BYTES/);
    // S3 bodies the signature covers count against the same budget: SlowDown.
    const url = new URL(server.endpoint);
    assert.equal((await rawS3Request(server, { method: 'PUT', target: '/budget-bucket' })).status, 200);
    const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
    const small = Buffer.from('<not a payload hash in sight>');
    const s3Signed = await signer.sign(
      new HttpRequest({ method: 'PUT', protocol: 'http:', hostname: url.hostname, path: '/budget-bucket/k', headers: { host: url.host, 'content-length': String(small.length) }, body: small }),
    );
    const s3Headers = { ...(s3Signed.headers as Record<string, string>) };
    delete s3Headers['x-amz-content-sha256'];
    const slowDown = openRequest(server, requestHead('PUT', '/budget-bucket/k', s3Headers), small);
    try {
      const got = await slowDown.answer;
      assert.equal(got.status, 503);
      assert.match(got.body, /<Code>SlowDown<\/Code>/);
    } finally {
      slowDown.socket.destroy();
    }

    for (const { socket } of held) socket.write(body.subarray(MiB - 1));
    for (const { socket, answer } of held) {
      assert.equal((await answer).status, 200);
      socket.destroy();
    }
    const afterwards = openRequest(server, head, body);
    try {
      assert.equal((await afterwards.answer).status, 200);
    } finally {
      afterwards.socket.destroy();
    }
    const s3Afterwards = openRequest(server, requestHead('PUT', '/budget-bucket/k', s3Headers), small);
    try {
      assert.equal((await s3Afterwards.answer).status, 200);
    } finally {
      s3Afterwards.socket.destroy();
    }
  });

  it('a body refused half-way (past its limit) is drained, so the client reads the error and the budget is whole again', async () => {
    const tooLarge = glueBody(2 * MiB);
    const head = requestHead('POST', '/', await signedGlueHeaders(server, tooLarge));
    const { socket, answer } = openRequest(server, head, tooLarge);
    try {
      const got = await answer;
      assert.equal(got.status, 400);
      assert.equal((JSON.parse(got.body) as { __type: string }).__type, 'SerializationException');
    } finally {
      socket.destroy();
    }
    const body = glueBody(MiB);
    const both = [openRequest(server, requestHead('POST', '/', await signedGlueHeaders(server, body)), body), openRequest(server, requestHead('POST', '/', await signedGlueHeaders(server, body)), body)];
    for (const { socket: s, answer: a } of both) {
      assert.equal((await a).status, 200);
      s.destroy();
    }
  });
});

/** The server process's resident memory in bytes (Linux /proc). */
function residentBytes(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

/** Resolves with how long the socket stayed open, once the server has closed it. */
function closedAfter(socket: Socket, since: number): Promise<number> {
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - since)));
}

describe('a body that stops arriving is given up (DOPPEL_BODY_IDLE_TIMEOUT_SECONDS)', () => {
  const IDLE_SECONDS = 1;
  let server: TestServer;
  before(async () => {
    server = await startServer({
      env: { DOPPEL_BODY_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS), DOPPEL_MAX_BODY_BYTES: String(MiB), DOPPEL_MAX_BUFFERED_BODY_BYTES: String(MiB) },
    });
    assert.equal((await rawS3Request(server, { method: 'PUT', target: '/idle-bucket' })).status, 200);
  });
  after(() => stopAndRemove(server));

  it('Glue: half a body, then nothing: answered RequestTimeoutException and closed after the timeout; others are answered meanwhile', async () => {
    const body = glueBody(MiB);
    const head = requestHead('POST', '/', await signedGlueHeaders(server, body));
    const started = Date.now();
    const stalled = openRequest(server, head, body.subarray(0, MiB / 2), 10_000);
    const closed = closedAfter(stalled.socket, started);
    // While it stalls, holding half the budget, other requests are answered at once.
    await new Promise((r) => setTimeout(r, 200));
    const other = openRequest(server, requestHead('POST', '/', await signedGlueHeaders(server, glueBody(100))), glueBody(100));
    try {
      assert.equal((await other.answer).status, 200);
      assert.ok(Date.now() - started < IDLE_SECONDS * 1000, 'answered while the other body stalls');
    } finally {
      other.socket.destroy();
    }
    const got = await stalled.answer;
    const answeredAfter = Date.now() - started;
    assert.equal(got.status, 400, got.body);
    const error = JSON.parse(got.body) as { __type: string; Message: string };
    assert.equal(error.__type, 'RequestTimeoutException');
    assert.match(error.Message, /^No part of the request body arrived for 1 s \(DOPPEL_BODY_IDLE_TIMEOUT_SECONDS\)/);
    assert.match(got.head, /\r\nconnection: close/i);
    assert.ok(answeredAfter >= IDLE_SECONDS * 1000 && answeredAfter < IDLE_SECONDS * 1000 + 3000, `answered after ${answeredAfter} ms`);
    assert.ok((await closed) < IDLE_SECONDS * 1000 + 3000, 'and the connection closed');
    // What the stalled body held is given back: a body as large as the whole budget fits again.
    const whole = glueBody(MiB);
    const after = openRequest(server, requestHead('POST', '/', await signedGlueHeaders(server, whole)), whole);
    try {
      assert.equal((await after.answer).status, 200);
    } finally {
      after.socket.destroy();
    }
  });

  it('S3: a PUT that stalls is answered RequestTimeout, closed, and stores nothing; one that keeps sending slowly is not', async () => {
    const url = new URL(server.endpoint);
    const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
    const headersFor = async (key: string, length: number) =>
      (
        await signer.sign(
          new HttpRequest({
            method: 'PUT',
            protocol: 'http:',
            hostname: url.hostname,
            path: `/idle-bucket/${key}`,
            headers: { host: url.host, 'content-length': String(length), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
          }),
        )
      ).headers as Record<string, string>;
    const size = 64 * 1024;
    const started = Date.now();
    const stalled = openRequest(server, requestHead('PUT', '/idle-bucket/stalled', await headersFor('stalled', size)), Buffer.alloc(size / 2, 'x'), 10_000);
    const closed = closedAfter(stalled.socket, started);
    const got = await stalled.answer;
    assert.equal(got.status, 400, got.body);
    assert.match(got.body, /<Code>RequestTimeout<\/Code>/);
    assert.match(got.body, /<Message>Your socket connection to the server was not read from or written to within the timeout period\. Idle connections will be closed\.<\/Message>/);
    assert.ok((await closed) < IDLE_SECONDS * 1000 + 3000, 'the connection is closed');
    assert.equal((await rawS3Request(server, { method: 'HEAD', target: '/idle-bucket/stalled' })).status, 404);

    // A piece every 400 ms for about 3 s: slower than the timeout in all, but never idle for it.
    const pieces = 8;
    const steady = openRequest(server, requestHead('PUT', '/idle-bucket/steady', await headersFor('steady', size)), Buffer.alloc(0), 10_000);
    try {
      for (let i = 0; i < pieces; i++) {
        await new Promise((r) => setTimeout(r, 400));
        steady.socket.write(Buffer.alloc(size / pieces, 'y'));
      }
      assert.equal((await steady.answer).status, 200);
    } finally {
      steady.socket.destroy();
    }
    const stored = await rawS3Request(server, { method: 'GET', target: '/idle-bucket/steady' });
    assert.equal(stored.body.length, size);
  });
});

describe('many slow, large bodies at once stay within the budget', () => {
  const BUDGET = 16 * MiB;
  const BODY = 8 * MiB;
  const CLIENTS = 32;
  let server: TestServer;
  before(async () => {
    server = await startServer({
      env: {
        DOPPEL_MAX_BODY_BYTES: String(BODY),
        DOPPEL_MAX_BUFFERED_BODY_BYTES: String(BUDGET),
        DOPPEL_BODY_IDLE_TIMEOUT_SECONDS: '2',
      },
    });
  });
  after(() => stopAndRemove(server));

  it(`${CLIENTS} clients each sending three quarters of an 8 MiB body, then stalling: the server's memory grows by about the 16 MiB budget, not by what they sent`, async (t) => {
    const pid = server.process.pid!;
    const body = glueBody(BODY);
    const head = requestHead('POST', '/', await signedGlueHeaders(server, body));
    const warmUp = openRequest(server, head, body);
    assert.equal((await warmUp.answer).status, 200);
    warmUp.socket.destroy();
    const baseline = residentBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(pid))), 20);
    const sent = (BODY * 3) / 4;
    const clients = Array.from({ length: CLIENTS }, () => openRequest(server, head, body.subarray(0, sent), 30_000));
    try {
      const answers = await Promise.all(clients.map((c) => c.answer));
      const statuses = answers.map((a) => a.status);
      // Those that fitted waited for the rest of their bodies and gave up (400); the rest were refused (503).
      assert.ok(statuses.every((s) => s === 400 || s === 503), statuses.join(' '));
      assert.ok(statuses.includes(400) && statuses.includes(503), statuses.join(' '));
      assert.ok(statuses.filter((s) => s === 400).length <= BUDGET / sent + 1, statuses.join(' '));
    } finally {
      clearInterval(sampler);
      for (const { socket } of clients) socket.destroy();
    }
    const grown = peak - baseline;
    t.diagnostic(`resident memory grew by ${(grown / MiB).toFixed(1)} MiB at most`);
    assert.ok(grown < BUDGET + 48 * MiB, `resident memory grew by ${(grown / MiB).toFixed(1)} MiB while ${(CLIENTS * sent) / MiB} MiB were sent`);
    await server.stop();
    const logged = /request bodies held in memory at once peaked at (\d+) bytes \(DOPPEL_MAX_BUFFERED_BODY_BYTES (\d+)\)/.exec(server.output());
    assert.ok(logged, server.output());
    assert.ok(Number(logged[1]) <= BUDGET, `held at most the budget: ${logged[1]}`);
    assert.ok(Number(logged[1]) >= sent, `and the bodies that fitted: ${logged[1]}`);
  });
});
