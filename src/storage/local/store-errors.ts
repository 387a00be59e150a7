/**
 * The S3 errors the embedded store raises beyond the two the contract module defines. Codes,
 * statuses and messages follow S3, so the S3 endpoint can pass them through unchanged.
 */
import { DISK_FULL_MESSAGE } from '../../core/errors.js';
import { ObjectStoreError } from '../object-store.js';

export const invalidBucketName = (bucket: string, why: string) =>
  new ObjectStoreError('InvalidBucketName', `The specified bucket is not valid: ${why}: ${bucket}`, 400);
export const bucketAlreadyOwnedByYou = (bucket: string) =>
  new ObjectStoreError(
    'BucketAlreadyOwnedByYou',
    `Your previous request to create the named bucket succeeded and you already own it: ${bucket}`,
    409,
  );
export const bucketNotEmpty = (bucket: string) =>
  new ObjectStoreError('BucketNotEmpty', `The bucket you tried to delete is not empty: ${bucket}`, 409);
export const keyTooLong = (bytes: number, max: number) =>
  new ObjectStoreError('KeyTooLongError', `Your key is too long: ${bytes} bytes, the maximum is ${max}.`, 400);
export const invalidArgument = (message: string) => new ObjectStoreError('InvalidArgument', message, 400);
export const invalidRange = (size: number) =>
  new ObjectStoreError('InvalidRange', `The requested range is not satisfiable (the object has ${size} bytes).`, 416, {
    ActualObjectSize: String(size),
  });
export const noSuchUpload = (uploadId: string) =>
  new ObjectStoreError(
    'NoSuchUpload',
    `The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed: ${uploadId}`,
    404,
  );
export const invalidPart = (partNumber: number, why: string) =>
  new ObjectStoreError(
    'InvalidPart',
    `One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag (part ${partNumber}: ${why}).`,
    400,
  );
export const invalidPartOrder = () =>
  new ObjectStoreError(
    'InvalidPartOrder',
    'The list of parts was not in ascending order. Parts must be ordered by part number.',
    400,
  );
export const entityTooSmall = (partNumber: number, size: number, min: number) =>
  new ObjectStoreError(
    'EntityTooSmall',
    `Your proposed upload is smaller than the minimum allowed size: part ${partNumber} has ${size} bytes, every part but the last needs at least ${min}.`,
    400,
    { ProposedSize: String(size), MinSizeAllowed: String(min), PartNumber: String(partNumber) },
  );
/** S3's fixed message; what is wrong goes into a Detail member, since clients match on the message. */
export const malformedXml = (why: string) =>
  new ObjectStoreError(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
    400,
    { Detail: why },
  );
/** The store's own files are not what it left there (a blob replaced by a symlink, say). */
export const storeCorrupted = (why: string) =>
  new ObjectStoreError('InternalError', `The embedded object store refused to use its files: ${why}`, 500);
/**
 * The disk is full. AWS S3 has no such error (it never fills up); HTTP 507 Insufficient Storage is
 * what S3-compatible servers answer (MinIO: 507 `XMinioStorageFull`), under the status's own name
 * here rather than a vendor-prefixed code. A 5xx that SDKs do not retry (they retry 500, 502, 503
 * and 504): repeating the write cannot help until space is freed.
 */
export const insufficientStorage = () => new ObjectStoreError('InsufficientStorage', DISK_FULL_MESSAGE, 507);
