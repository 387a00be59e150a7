/**
 * (Shared by every layer: domain services raise these and the API layer renders them.)
 *
 * Errors that render themselves on the AWS JSON 1.1 wire.
 *
 * Every client error is HTTP 400: SDKs retry 5xx (and 429), so answering a client mistake with one
 * would make clients repeat side effects. 500 is reserved for genuine internal faults.
 */
export class ServiceError extends Error {
  readonly type: string;
  readonly status: number;
  /** Extra modeled members copied into the error body (e.g. FromFederationSource). */
  readonly members: Record<string, unknown>;

  constructor(type: string, message: string, status = 400, members: Record<string, unknown> = {}) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
    this.members = members;
  }

  toBody(): Record<string, unknown> {
    return { __type: this.type, Message: this.message, ...this.members };
  }
}

const clientError = (type: string) => (message: string) => new ServiceError(type, message);

export const entityNotFound = clientError('EntityNotFoundException');
export const invalidInput = clientError('InvalidInputException');
export const alreadyExists = clientError('AlreadyExistsException');
export const validationError = clientError('ValidationException');
export const serializationError = clientError('SerializationException');
export const resourceNumberLimitExceeded = clientError('ResourceNumberLimitExceededException');
export const concurrentRunsExceeded = clientError('ConcurrentRunsExceededException');
export const transformNotReady = clientError('MLTransformNotReadyException');
export const idempotentParameterMismatch = clientError('IdempotentParameterMismatchException');
export const unknownOperation = clientError('UnknownOperationException');

/** doppel has no security configurations (no CreateSecurityConfiguration), so no name refers to one. */
export const securityConfigurationNotFound = (name: string, field: string) =>
  entityNotFound(
    `Security configuration ${name} not found (${field}): doppel has no security configurations ` +
      '(CreateSecurityConfiguration is not implemented), so leave it out.',
  );

/** AWS's answer for an ML transform id the account does not have. */
export const transformNotFound = (accountId: string, id: string) =>
  entityNotFound(`Cannot find MLTransform in account ${accountId} with handle ${id}.`);

export const internalFailure = (message = 'Internal service failure.') =>
  new ServiceError('InternalServiceException', message, 500);

/** Authentication failures: 403 like AWS front ends; SDKs do not retry them. */
export const authError = (type: string, message: string) => new ServiceError(type, message, 403);

/**
 * Whether an error is the filesystem (or SQLite on it) running out of space: `ENOSPC` / `EDQUOT`
 * from Node's fs, `SQLITE_FULL` from better-sqlite3.
 */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** What a write refused for lack of disk space tells the caller, whichever API it came through. */
export const DISK_FULL_MESSAGE =
  "The server's disk is full: the filesystem of doppel's data dir has no room for this write. " +
  'Delete objects or other resources (deletes work on a full disk) or free space on that filesystem, then retry.';

export const diskFull = () => internalFailure(`Internal service failure: ${DISK_FULL_MESSAGE}`);
