/**
 * The flexible checksums objects and parts keep ("Checking object integrity" in the S3 user guide).
 * They are stored with the object's other headers, as S3 answers them: `x-amz-checksum-<algorithm>`
 * (base64, with `-<parts>` for a composite one) and `x-amz-checksum-type` (FULL_OBJECT / COMPOSITE).
 * A multipart upload keeps the algorithm and type it was created with (`x-amz-checksum-algorithm`,
 * `x-amz-checksum-type`); each part keeps the checksum of that algorithm.
 *
 * An object uploaded without a checksum gets a CRC64NVME one, as S3 gives new objects; the bytes
 * stream through anyway.
 */
import type { BodyHeaders } from '../../storage/object-store.js';
import { badDigest, invalidRequest } from './s3-errors.js';
import type { HeaderMap } from './s3-response.js';
import type { XmlElement } from './s3-xml.js';
import {
  CHECKSUM_HEADER_PREFIX,
  checksumOf,
  displayName,
  isChecksumAlgorithm,
  startChecksum,
  type ChecksumAlgorithm,
} from './payload/checksums.js';
import type { Payload } from './payload/request-payload.js';

export const CHECKSUM_ALGORITHM_HEADER = 'x-amz-checksum-algorithm';
export const CHECKSUM_TYPE_HEADER = 'x-amz-checksum-type';
/** What PutObject and UploadPart name the algorithm the SDK computed with. */
export const SDK_CHECKSUM_ALGORITHM_HEADER = 'x-amz-sdk-checksum-algorithm';
export const DEFAULT_CHECKSUM_ALGORITHM: ChecksumAlgorithm = 'crc64nvme';

export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

/** The algorithms S3 allows for each checksum type of a multipart upload (CreateMultipartUpload). */
const TYPES_OF: Record<ChecksumAlgorithm, readonly ChecksumType[]> = {
  crc32: ['COMPOSITE', 'FULL_OBJECT'],
  crc32c: ['COMPOSITE', 'FULL_OBJECT'],
  crc64nvme: ['FULL_OBJECT'],
  sha1: ['COMPOSITE'],
  sha256: ['COMPOSITE'],
};

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64, `-<parts>` appended for a composite checksum. */
  value: string;
  type?: ChecksumType;
}

/** The algorithm a request header names (CRC32, sha256, ...); InvalidRequest naming the header otherwise. */
export function requestedAlgorithm(headers: Record<string, string>, header: string): ChecksumAlgorithm | undefined {
  const text = headers[header];
  if (text === undefined) return undefined;
  const algorithm = text.trim().toLowerCase();
  if (!isChecksumAlgorithm(algorithm)) {
    throw invalidRequest(`Value for ${header} header is invalid: ${text} (one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256).`);
  }
  return algorithm;
}

/**
 * The algorithm of a PutObject's checksum: the one the client sent (header or trailer), else the
 * one x-amz-sdk-checksum-algorithm names, else CRC64NVME. InvalidRequest when the two disagree.
 */
export function putChecksumAlgorithm(headers: Record<string, string>, payload: Payload): ChecksumAlgorithm {
  const named = requestedAlgorithm(headers, SDK_CHECKSUM_ALGORITHM_HEADER);
  if (named !== undefined && payload.claimedAlgorithm !== undefined && named !== payload.claimedAlgorithm) {
    throw invalidRequest(
      `Value for ${SDK_CHECKSUM_ALGORITHM_HEADER} header is invalid: ${displayName(named)}, the checksum sent is ${displayName(payload.claimedAlgorithm)}.`,
    );
  }
  return payload.claimedAlgorithm ?? named ?? DEFAULT_CHECKSUM_ALGORITHM;
}

/**
 * The `algorithm` checksum of an uploaded body (PutObject, UploadPart), with `type` (an object's;
 * parts have none of their own). A checksum of that algorithm the client sent is verified as the
 * body streams (request-payload.ts), so it is taken as it is, without a second pass.
 */
export function uploadedChecksum(payload: Payload, algorithm: ChecksumAlgorithm, type?: ChecksumType): BodyHeaders {
  if (payload.claimedAlgorithm !== algorithm) return computedChecksum(algorithm, type);
  return {
    update: () => undefined,
    headers: async () => checksumHeaders({ algorithm, value: payload.verifiedChecksums.get(algorithm)!, ...optionalType(type) }),
  };
}

/** Computes the `algorithm` checksum of the bytes stored (CopyObject, UploadPartCopy, a full-object multipart checksum). */
export function computedChecksum(algorithm: ChecksumAlgorithm, type?: ChecksumType): BodyHeaders {
  const running = startChecksum(algorithm);
  return {
    update: (chunk) => running.update(chunk),
    headers: async () => checksumHeaders({ algorithm, value: await running.digest(), ...optionalType(type) }),
  };
}

/** The checksum kept in stored headers, if any. */
export function storedChecksum(headers: Record<string, string> | undefined): StoredChecksum | undefined {
  for (const [name, value] of Object.entries(headers ?? {})) {
    const algorithm = name.startsWith(CHECKSUM_HEADER_PREFIX) ? name.slice(CHECKSUM_HEADER_PREFIX.length) : '';
    if (!isChecksumAlgorithm(algorithm)) continue;
    const type = headers?.[CHECKSUM_TYPE_HEADER];
    return { algorithm, value, ...(type === 'FULL_OBJECT' || type === 'COMPOSITE' ? { type } : {}) };
  }
  return undefined;
}

/** `x-amz-checksum-<algorithm>` and `x-amz-checksum-type`, as stored and as answered. */
export function checksumHeaders(checksum: StoredChecksum): Record<string, string> {
  return {
    [`${CHECKSUM_HEADER_PREFIX}${checksum.algorithm}`]: checksum.value,
    ...(checksum.type !== undefined ? { [CHECKSUM_TYPE_HEADER]: checksum.type } : {}),
  };
}

/** Response headers of a write: the checksum kept, or nothing. */
export function checksumResponseHeaders(headers: Record<string, string> | undefined): HeaderMap {
  const checksum = storedChecksum(headers);
  return checksum ? checksumHeaders(checksum) : {};
}

/** The checksum as members of a result document: ChecksumCRC32 ... and ChecksumType. */
export function checksumElements(headers: Record<string, string> | undefined): XmlElement {
  const checksum = storedChecksum(headers);
  if (!checksum) return {};
  return {
    [`Checksum${displayName(checksum.algorithm)}`]: checksum.value,
    ...(checksum.type !== undefined ? { ChecksumType: checksum.type } : {}),
  };
}

/**
 * CreateMultipartUpload's x-amz-checksum-algorithm and x-amz-checksum-type as the upload keeps them:
 * the type defaults to FULL_OBJECT for CRC64NVME and COMPOSITE for the others; a combination S3
 * does not allow is InvalidRequest. None for an upload without either (it gets the default).
 */
export function uploadChecksumHeaders(headers: Record<string, string>): Record<string, string> {
  const algorithm = requestedAlgorithm(headers, CHECKSUM_ALGORITHM_HEADER);
  const typeText = headers[CHECKSUM_TYPE_HEADER];
  if (algorithm === undefined) {
    if (typeText !== undefined) {
      throw invalidRequest(`The ${CHECKSUM_TYPE_HEADER} header can only be used together with ${CHECKSUM_ALGORITHM_HEADER}.`);
    }
    return {};
  }
  const allowed = TYPES_OF[algorithm];
  const type = typeText === undefined ? allowed[0]! : typeText.trim().toUpperCase();
  if (type !== 'FULL_OBJECT' && type !== 'COMPOSITE') {
    throw invalidRequest(`Value for ${CHECKSUM_TYPE_HEADER} header is invalid: ${typeText} (FULL_OBJECT or COMPOSITE).`);
  }
  if (!allowed.includes(type)) {
    throw invalidRequest(`The ${type} checksum type cannot be used with the ${displayName(algorithm)} checksum algorithm.`);
  }
  return { [CHECKSUM_ALGORITHM_HEADER]: displayName(algorithm), [CHECKSUM_TYPE_HEADER]: type };
}

/** An upload's checksum algorithm and type (CRC64NVME, FULL_OBJECT for one created without). */
export function uploadChecksum(uploadHeaders: Record<string, string>): { algorithm: ChecksumAlgorithm; type: ChecksumType } {
  const algorithm = uploadHeaders[CHECKSUM_ALGORITHM_HEADER]?.toLowerCase();
  const type = uploadHeaders[CHECKSUM_TYPE_HEADER];
  if (algorithm === undefined || !isChecksumAlgorithm(algorithm)) return { algorithm: DEFAULT_CHECKSUM_ALGORITHM, type: 'FULL_OBJECT' };
  return { algorithm, type: type === 'COMPOSITE' ? 'COMPOSITE' : 'FULL_OBJECT' };
}

/**
 * A composite checksum: the checksum of the parts' binary checksums one after the other, with
 * `-<number of parts>` appended.
 */
export async function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksums: readonly string[]): Promise<string> {
  const digests = Buffer.concat(partChecksums.map((value) => Buffer.from(value, 'base64')));
  return `${await checksumOf(algorithm, digests)}-${partChecksums.length}`;
}

/**
 * CompleteMultipartUpload's own x-amz-checksum-<algorithm> (the whole object's, as the client
 * computed it) and x-amz-checksum-type, checked against what the object gets: BadDigest otherwise.
 */
export function checkClaimedObjectChecksum(
  headers: Record<string, string>,
  type: ChecksumType,
  kept: StoredChecksum,
): void {
  const claimedType = headers[CHECKSUM_TYPE_HEADER];
  if (claimedType !== undefined && claimedType.trim().toUpperCase() !== type) {
    throw badDigest(`${CHECKSUM_TYPE_HEADER} (${claimedType}, the upload's is ${type})`);
  }
  // A composite checksum may be given with or without its `-<parts>` suffix.
  const accepted = [kept.value, kept.value.replace(/-\d+$/, '')];
  for (const [name, value] of Object.entries(headers)) {
    const algorithm = name.startsWith(CHECKSUM_HEADER_PREFIX) ? name.slice(CHECKSUM_HEADER_PREFIX.length) : '';
    if (!isChecksumAlgorithm(algorithm)) continue;
    if (algorithm !== kept.algorithm || !accepted.includes(value.trim())) throw badDigest(displayName(algorithm));
  }
}

/** The upload's headers as its object keeps them: without the upload's checksum settings. */
export function withoutUploadChecksumSettings(uploadHeaders: Record<string, string>): Record<string, string> {
  const { [CHECKSUM_ALGORITHM_HEADER]: _algorithm, [CHECKSUM_TYPE_HEADER]: _type, ...rest } = uploadHeaders;
  return rest;
}

const optionalType = (type: ChecksumType | undefined) => (type !== undefined ? { type } : {});
