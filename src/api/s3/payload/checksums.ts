/**
 * The flexible checksums S3 clients attach to uploads (`x-amz-checksum-<algorithm>`, as a header or
 * an aws-chunked trailer): CRC32, CRC32C, SHA-1, SHA-256, base64 of the big-endian digest.
 * CRC64NVME is recognised but not computed (it is accepted unverified).
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export interface RunningChecksum {
  update(chunk: Uint8Array): void;
  /** base64 of the digest. */
  digest(): string;
}

export const CHECKSUM_HEADER_PREFIX = 'x-amz-checksum-';
const VERIFIABLE = ['crc32', 'crc32c', 'sha1', 'sha256'] as const;
const KNOWN = [...VERIFIABLE, 'crc64nvme'] as const;
export type ChecksumAlgorithm = (typeof KNOWN)[number];

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (KNOWN as readonly string[]).includes(name);
}

/** A running checksum, or undefined for an algorithm doppel cannot compute. */
export function startChecksum(algorithm: ChecksumAlgorithm): RunningChecksum | undefined {
  switch (algorithm) {
    case 'crc32':
      return crcChecksum((chunk, value) => crc32(chunk, value));
    case 'crc32c':
      return crcChecksum(crc32c);
    case 'sha1':
    case 'sha256':
      return hashChecksum(createHash(algorithm));
    case 'crc64nvme':
      return undefined;
  }
}

function crcChecksum(step: (chunk: Uint8Array, value: number) => number): RunningChecksum {
  let value = 0;
  return {
    update: (chunk) => {
      value = step(chunk, value);
    },
    digest: () => {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(value >>> 0);
      return bytes.toString('base64');
    },
  };
}

function hashChecksum(hash: Hash): RunningChecksum {
  return { update: (chunk) => hash.update(chunk), digest: () => hash.digest('base64') };
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continued from `value`. */
export function crc32c(chunk: Uint8Array, value = 0): number {
  let crc = ~value >>> 0;
  for (let i = 0; i < chunk.length; i++) {
    crc = CRC32C_TABLE[(crc ^ chunk[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Upper-case names for messages, as S3 writes them (CRC32, SHA256, ...). */
export const displayName = (algorithm: ChecksumAlgorithm) => algorithm.toUpperCase();
