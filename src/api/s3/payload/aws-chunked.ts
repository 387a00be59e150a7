/**
 * Decoder for `Content-Encoding: aws-chunked` bodies, the framing S3 clients use to stream an upload
 * whose signature or checksum cannot be computed up front:
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n   … repeated, then a zero-size chunk …
 *   0[;chunk-signature=<sig>]\r\n
 *   [<trailer name>:<value>\r\n …][x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * Chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) chain from the request's own
 * signature ("seed"); each one is checked as soon as its chunk has arrived, as is the trailer
 * signature. Data is passed on as it arrives: whoever consumes the decoder must only act on the
 * bytes once the decoder has finished without throwing (the object store commits only then).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { incompleteBody, invalidRequest, signatureDoesNotMatch } from '../s3-errors.js';

export interface ChunkSigning {
  /** kSigning = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request". */
  signingKey: Buffer;
  /** X-Amz-Date of the request. */
  amzDate: string;
  /** `<yyyymmdd>/<region>/<service>/aws4_request` */
  scope: string;
  /** The request's own signature, which the first chunk signature chains from. */
  seedSignature: string;
}

export interface AwsChunkedOptions {
  /** Verify chunk (and trailer) signatures with this; unsigned framing when absent. */
  signing?: ChunkSigning;
  /** Trailing headers follow the final chunk. */
  trailer: boolean;
  /** Receives the trailing headers (lower-cased names) once the final chunk and trailers are read. */
  onTrailers?: (trailers: Map<string, string>) => void;
}

const EMPTY_SHA256 = createHash('sha256').digest('hex');
const MAX_LINE_BYTES = 4096;
const CRLF = Buffer.from('\r\n');

export function signingKeyFor(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const step = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  return step(step(step(step(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

export function chunkSignature(signing: ChunkSigning, previous: string, dataSha256Hex: string): string {
  const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, previous, EMPTY_SHA256, dataSha256Hex].join('\n');
  return createHmac('sha256', signing.signingKey).update(stringToSign).digest('hex');
}

export function trailerSignature(signing: ChunkSigning, previous: string, canonicalTrailers: string): string {
  const trailerHash = createHash('sha256').update(canonicalTrailers).digest('hex');
  const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', signing.amzDate, signing.scope, previous, trailerHash].join('\n');
  return createHmac('sha256', signing.signingKey).update(stringToSign).digest('hex');
}

export async function* decodeAwsChunked(
  source: AsyncIterable<Uint8Array>,
  options: AwsChunkedOptions,
): AsyncGenerator<Uint8Array> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  const signing = options.signing;
  let previousSignature = signing?.seedSignature ?? '';
  try {
    for (;;) {
      const header = await reader.readLine();
      if (header === undefined) throw incompleteBody('the aws-chunked body ended before its final chunk');
      const { size, signature } = parseChunkHeader(header, signing !== undefined);
      const hash = signing ? createHash('sha256') : undefined;
      for await (const piece of reader.readExactly(size)) {
        hash?.update(piece);
        yield piece;
      }
      if (signing) {
        const expected = chunkSignature(signing, previousSignature, hash!.digest('hex'));
        if (!sameSignature(expected, signature!)) throw signatureDoesNotMatch('aws-chunked chunk signature');
        previousSignature = expected;
      }
      if (size === 0) break;
      await reader.expect(CRLF);
    }
    const trailers = await readTrailers(reader, options.trailer, signing, previousSignature);
    if (!(await reader.atEnd())) throw invalidRequest('The aws-chunked body has data after its final chunk.');
    options.onTrailers?.(trailers);
  } finally {
    await reader.close();
  }
}

function parseChunkHeader(line: string, signed: boolean): { size: number; signature?: string } {
  const [sizeText = '', ...extensions] = line.split(';');
  if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw invalidRequest(`Malformed aws-chunked chunk header: '${line.slice(0, 80)}'.`);
  const size = parseInt(sizeText, 16);
  let signature: string | undefined;
  for (const extension of extensions) {
    const [name, value] = extension.split('=', 2);
    if (name?.trim() === 'chunk-signature') signature = value?.trim();
  }
  if (signed && (signature === undefined || !/^[0-9a-f]{64}$/.test(signature))) {
    throw signatureDoesNotMatch('an aws-chunked chunk has no chunk-signature');
  }
  return { size, ...(signature !== undefined ? { signature } : {}) };
}

/**
 * Trailing header lines up to the blank line (or the end of the body: some clients stop right after
 * `0\r\n`). A signed trailer must end with `x-amz-trailer-signature`, which covers the lines before it.
 */
async function readTrailers(
  reader: ByteReader,
  expected: boolean,
  signing: ChunkSigning | undefined,
  previousSignature: string,
): Promise<Map<string, string>> {
  const trailers = new Map<string, string>();
  let canonical = '';
  let signature: string | undefined;
  for (;;) {
    const line = await reader.readLine();
    if (line === undefined || line === '') break;
    if (!expected) throw invalidRequest('The aws-chunked body has trailing headers but the request declared none.');
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalidRequest(`Malformed aws-chunked trailer line: '${line.slice(0, 80)}'.`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      signature = value;
      continue;
    }
    if (signature !== undefined) throw invalidRequest('The trailer signature must be the last trailing header.');
    trailers.set(name, value);
    canonical += `${name}:${value}\n`;
  }
  if (signing && expected) {
    if (signature === undefined) throw signatureDoesNotMatch('the signed trailer has no x-amz-trailer-signature');
    if (!sameSignature(trailerSignature(signing, previousSignature, canonical), signature)) {
      throw signatureDoesNotMatch('aws-chunked trailer signature');
    }
  }
  return trailers;
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Pull-based reading of lines and exact byte counts from a stream of chunks. */
class ByteReader {
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** The next CRLF-terminated line (without the CRLF), or undefined at the end of the body. */
  async readLine(): Promise<string | undefined> {
    let searchFrom = 0;
    for (;;) {
      const end = this.buffered.indexOf(CRLF, searchFrom);
      if (end >= 0) {
        const line = this.buffered.subarray(0, end).toString('latin1');
        this.buffered = this.buffered.subarray(end + 2);
        return line;
      }
      if (this.buffered.length > MAX_LINE_BYTES) throw invalidRequest('An aws-chunked header line is too long.');
      searchFrom = Math.max(0, this.buffered.length - 1);
      if (!(await this.fill())) {
        if (this.buffered.length === 0) return undefined;
        throw incompleteBody('the aws-chunked body ended in the middle of a line');
      }
    }
  }

  /** Exactly `count` bytes, in pieces as they arrive. */
  async *readExactly(count: number): AsyncGenerator<Buffer> {
    let remaining = count;
    while (remaining > 0) {
      if (this.buffered.length === 0 && !(await this.fill())) {
        throw incompleteBody('the aws-chunked body ended in the middle of a chunk');
      }
      const take = Math.min(remaining, this.buffered.length);
      yield this.buffered.subarray(0, take);
      this.buffered = this.buffered.subarray(take);
      remaining -= take;
    }
  }

  async expect(bytes: Buffer): Promise<void> {
    while (this.buffered.length < bytes.length) {
      if (!(await this.fill())) throw incompleteBody('the aws-chunked body ended after a chunk');
    }
    if (!this.buffered.subarray(0, bytes.length).equals(bytes)) {
      throw invalidRequest('An aws-chunked chunk is longer than its declared size.');
    }
    this.buffered = this.buffered.subarray(bytes.length);
  }

  async atEnd(): Promise<boolean> {
    while (this.buffered.length === 0) {
      if (!(await this.fill())) return true;
    }
    return false;
  }

  async close(): Promise<void> {
    if (!this.ended) await this.source.return?.();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    return true;
  }
}
