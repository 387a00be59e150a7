/**
 * The body of an S3 request as the object store should see it: aws-chunked framing removed, and
 * every integrity claim the client made checked while the bytes stream through: the signed
 * x-amz-content-sha256, chunk and trailer signatures, Content-MD5, x-amz-checksum-* (header or
 * trailer) and x-amz-decoded-content-length.
 *
 * All checks complete before the stream ends: a failed one makes the stream throw instead of
 * finishing, so the store (which commits only after reading to the end) stores nothing.
 */
import { createHash } from 'node:crypto';
import {
  badDigest,
  contentSha256Mismatch,
  incompleteBody,
  invalidArgument,
  invalidDigest,
  invalidRequest,
  notImplemented,
} from '../s3-errors.js';
import { decodeAwsChunked, type ChunkSigning } from './aws-chunked.js';
import {
  CHECKSUM_HEADER_PREFIX,
  displayName,
  isChecksumAlgorithm,
  startChecksum,
  type ChecksumAlgorithm,
} from './checksums.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** What authentication learned about the payload. */
export interface PayloadPlan {
  /** x-amz-content-sha256 as declared (header, or presigned query), if at all. */
  contentSha256?: string;
  /** Present when chunk signatures are to be verified. */
  chunkSigning?: ChunkSigning;
  /** The body, when authentication had to read it already (no declared payload hash). */
  buffered?: Uint8Array;
}

export interface Payload {
  body: AsyncIterable<Uint8Array>;
  /** x-amz-checksum-* values verified against the body; filled in once the body has been read. */
  verifiedChecksums: Map<ChecksumAlgorithm, string>;
  /**
   * The algorithm of the checksum the client sent (header, or trailer named by x-amz-trailer),
   * known before the body is read; its value is in verifiedChecksums once the body has ended.
   */
  claimedAlgorithm?: ChecksumAlgorithm;
}

/** True when the declared payload hash means aws-chunked framing with chunk signatures. */
export const isSignedStreaming = (contentSha256: string | undefined) =>
  contentSha256 === STREAMING_SIGNED || contentSha256 === STREAMING_SIGNED_TRAILER;

/** Throws InvalidArgument / NotImplemented for an x-amz-content-sha256 doppel cannot honour. */
export function checkDeclaredPayloadHash(contentSha256: string | undefined): void {
  if (contentSha256 === undefined || contentSha256 === UNSIGNED_PAYLOAD || HEX_SHA256.test(contentSha256)) return;
  if (contentSha256 === STREAMING_SIGNED || contentSha256 === STREAMING_SIGNED_TRAILER) return;
  if (contentSha256 === STREAMING_UNSIGNED_TRAILER) return;
  if (contentSha256.startsWith('STREAMING-AWS4-ECDSA-P256-SHA256')) throw notImplemented('SigV4a (ECDSA) streaming signatures');
  throw invalidArgument(
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value.',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha256 },
  );
}

interface PayloadCheck {
  update(chunk: Uint8Array): void;
  /** Throws when the body did not hold what was claimed. */
  finish(): void | Promise<void>;
}

export interface PayloadOptions {
  /**
   * Whether x-amz-checksum-* headers are checksums of this body (default). CompleteMultipartUpload's
   * are the checksum of the object it assembles, not of its XML.
   */
  checksumHeadersDescribeBody?: boolean;
}

export function requestPayload(
  request: Request,
  headers: Record<string, string>,
  plan: PayloadPlan,
  options: PayloadOptions = {},
): Payload {
  const declared = plan.contentSha256;
  const raw = plan.buffered ? once(plan.buffered) : bodyChunks(request);
  const verifiedChecksums = new Map<ChecksumAlgorithm, string>();
  const checks: PayloadCheck[] = [];
  let claimedAlgorithm: ChecksumAlgorithm | undefined;

  let body = raw;
  let trailers: Map<string, string> | undefined;
  if (declared?.startsWith('STREAMING-')) {
    const trailer = declared.endsWith('-TRAILER');
    body = decodeAwsChunked(raw, {
      ...(declared !== STREAMING_UNSIGNED_TRAILER && plan.chunkSigning ? { signing: plan.chunkSigning } : {}),
      trailer,
      onTrailers: (received) => {
        trailers = received;
      },
    });
    const decodedLength = headers['x-amz-decoded-content-length'];
    if (decodedLength !== undefined) checks.push(lengthCheck(decodedLength, 'x-amz-decoded-content-length'));
    const trailerName = headers['x-amz-trailer']?.trim().toLowerCase();
    if (trailer && trailerName) {
      claimedAlgorithm = algorithmOf(trailerName);
      checks.push(checksumCheck(claimedAlgorithm, () => trailers?.get(trailerName), verifiedChecksums));
    }
  } else {
    if (declared !== undefined && HEX_SHA256.test(declared)) checks.push(sha256Check(declared));
    // A client that goes away mid-body must not leave a shorter object behind.
    const contentLength = headers['content-length'];
    if (contentLength !== undefined && !plan.buffered) checks.push(lengthCheck(contentLength, 'Content-Length'));
  }

  const contentMd5 = headers['content-md5'];
  if (contentMd5 !== undefined) checks.push(md5Check(contentMd5));
  for (const [name, value] of options.checksumHeadersDescribeBody === false ? [] : Object.entries(headers)) {
    // x-amz-checksum-<algorithm>; other names with that prefix (-mode, -type) are not checksums.
    const algorithm = name.startsWith(CHECKSUM_HEADER_PREFIX) ? name.slice(CHECKSUM_HEADER_PREFIX.length) : '';
    if (!isChecksumAlgorithm(algorithm)) continue;
    claimedAlgorithm ??= algorithm;
    checks.push(checksumCheck(algorithm, () => value, verifiedChecksums));
  }
  return {
    body: checks.length === 0 ? body : checked(body, checks),
    verifiedChecksums,
    ...(claimedAlgorithm !== undefined ? { claimedAlgorithm } : {}),
  };
}

async function* bodyChunks(request: Request): AsyncGenerator<Uint8Array> {
  if (!request.body) return;
  yield* request.body as unknown as AsyncIterable<Uint8Array>;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function* checked(source: AsyncIterable<Uint8Array>, checks: PayloadCheck[]): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    for (const check of checks) check.update(chunk);
    yield chunk;
  }
  for (const check of checks) await check.finish();
}

function algorithmOf(headerName: string): ChecksumAlgorithm {
  const algorithm = headerName.startsWith(CHECKSUM_HEADER_PREFIX) ? headerName.slice(CHECKSUM_HEADER_PREFIX.length) : '';
  if (!isChecksumAlgorithm(algorithm)) throw invalidRequest(`Unsupported checksum: ${headerName}.`);
  return algorithm;
}

function sha256Check(expectedHex: string): PayloadCheck {
  const hash = createHash('sha256');
  return {
    update: (chunk) => hash.update(chunk),
    finish: () => {
      if (hash.digest('hex') !== expectedHex) throw contentSha256Mismatch();
    },
  };
}

function md5Check(contentMd5: string): PayloadCheck {
  const expected = Buffer.from(contentMd5, 'base64');
  if (expected.length !== 16 || expected.toString('base64') !== contentMd5.trim()) throw invalidDigest('Content-MD5');
  const hash = createHash('md5');
  return {
    update: (chunk) => hash.update(chunk),
    finish: () => {
      if (!hash.digest().equals(expected)) throw badDigest('Content-MD5');
    },
  };
}

/** `expected` is read when the body has ended (a trailer arrives only then). */
function checksumCheck(
  algorithm: ChecksumAlgorithm,
  expected: () => string | undefined,
  verified: Map<ChecksumAlgorithm, string>,
): PayloadCheck {
  const running = startChecksum(algorithm);
  return {
    update: (chunk) => running.update(chunk),
    finish: async () => {
      const claimed = expected()?.trim();
      if (claimed === undefined || claimed === '') {
        throw invalidRequest(`The x-amz-checksum-${algorithm} trailer declared by x-amz-trailer was not sent.`);
      }
      if ((await running.digest()) !== claimed) throw badDigest(displayName(algorithm));
      verified.set(algorithm, claimed);
    },
  };
}

function lengthCheck(declared: string, header: string): PayloadCheck {
  if (!/^\d{1,16}$/.test(declared)) throw invalidArgument(`${header} must be a number of bytes.`);
  const expected = Number(declared);
  let seen = 0;
  return {
    update: (chunk) => {
      seen += chunk.byteLength;
      if (seen > expected) throw incompleteBody(`the body is longer than ${header} (${expected})`);
    },
    finish: () => {
      if (seen !== expected) throw incompleteBody(`${seen} bytes received, ${header} says ${expected}`);
    },
  };
}
