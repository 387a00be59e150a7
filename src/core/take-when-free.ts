/** How long a lock's holder-to-be waits for another process to let go before giving up. */
const WAIT_MS = 30_000;
/** Pause between two attempts while another process holds the lock: it keeps it for a few statements. */
const RETRY_MS = 5;

/**
 * Tries `take` (a lock taken without waiting: true when taken) until it succeeds, pausing between
 * attempts so that the event loop is never blocked; fails naming `what` after WAIT_MS.
 */
export async function takeWhenFree(take: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await take())) {
    if (Date.now() > deadline) throw new Error(`${what} is still held by another process after ${WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
