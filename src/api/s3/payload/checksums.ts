/**
 * The flexible checksums of S3 ("Checking object integrity" in the S3 user guide): CRC32, CRC32C,
 * CRC64NVME, SHA-1 and SHA-256, each the base64 of the big-endian digest. Clients attach them to
 * uploads (`x-amz-checksum-<algorithm>`, as a header or an aws-chunked trailer); objects keep one.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc64NvmeJs } from '@aws-sdk/checksums/crc';

export interface RunningChecksum {
  update(chunk: Uint8Array): void;
  /** base64 of the digest. */
  digest(): Promise<string>;
}

export const CHECKSUM_HEADER_PREFIX = 'x-amz-checksum-';
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

export function startChecksum(algorithm: ChecksumAlgorithm): RunningChecksum {
  switch (algorithm) {
    case 'crc32':
      return crcChecksum((chunk, value) => crc32(chunk, value));
    case 'crc32c':
      return crcChecksum(crc32c);
    case 'crc64nvme':
      return crc64NvmeChecksum();
    case 'sha1':
    case 'sha256':
      return hashChecksum(createHash(algorithm));
  }
}

/** The checksum of `bytes` in one go. */
export async function checksumOf(algorithm: ChecksumAlgorithm, bytes: Uint8Array): Promise<string> {
  const running = startChecksum(algorithm);
  running.update(bytes);
  return running.digest();
}

function crcChecksum(step: (chunk: Uint8Array, value: number) => number): RunningChecksum {
  let value = 0;
  return {
    update: (chunk) => {
      value = step(chunk, value);
    },
    digest: async () => {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(value >>> 0);
      return bytes.toString('base64');
    },
  };
}

function crc64NvmeChecksum(): RunningChecksum {
  const crc = new Crc64NvmeJs();
  return {
    update: (chunk) => crc.update(chunk),
    digest: async () => Buffer.from(await crc.digest()).toString('base64'),
  };
}

function hashChecksum(hash: Hash): RunningChecksum {
  return { update: (chunk) => hash.update(chunk), digest: async () => hash.digest('base64') };
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

/** Upper-case names, as S3 writes them in headers, documents and messages (CRC32, SHA256, ...). */
export const displayName = (algorithm: ChecksumAlgorithm) => algorithm.toUpperCase();
