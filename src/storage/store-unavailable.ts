/**
 * Whether a metadata-store call failed because the store could not be reached or dropped the
 * connection (PostgreSQL restarting or shutting down, a backend terminated, a network cut), not
 * because of what was asked: the same call may well succeed a moment later. The embedded store
 * fails no call this way (SQLite waits out other writers' locks itself).
 *
 * A write that failed this way may still have committed, when the connection broke after its
 * COMMIT: callers that try one again must make it safe to repeat.
 */
export function isStoreUnavailable(e: unknown): boolean {
  // Connecting to several addresses of one host name fails with one error per address.
  if (e instanceof AggregateError) return e.errors.length > 0 && e.errors.every(isStoreUnavailable);
  if (!(e instanceof Error)) return false;
  const code = (e as Error & { code?: unknown }).code;
  if (typeof code === 'string') {
    // SQLSTATE class 08 (connection exception); 57P01 admin_shutdown (a terminated backend, a fast
    // shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down);
    // 53300 too_many_connections.
    if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
    if (SOCKET_ERRORS.has(code)) return true;
  }
  // node-postgres's own errors for a connection that broke or could not be made carry no code.
  return PG_CONNECTION_ERRORS.some((message) => e.message.startsWith(message));
}

/** Node's errors of a TCP connection that could not be made or broke. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

const PG_CONNECTION_ERRORS = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];
