/**
 * Request bodies held in memory: read within a per-request limit and within one budget shared by
 * every request in flight, so that many large bodies arriving at once cannot grow the server
 * without bound.
 */

/** Bytes of request bodies held in memory at once, across all requests. */
export class BufferedBodyBudget {
  private held = 0;

  constructor(readonly limitBytes: number) {}

  /**
   * Takes `bytes` more for a body that holds `heldByBody` already; false when that would pass the
   * limit. A body that is the only one held is always given room (its own limit bounds it), so no
   * request size that fits the per-request limit can be refused forever.
   */
  tryTake(bytes: number, heldByBody = 0): boolean {
    if (this.held > heldByBody && this.held + bytes > this.limitBytes) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }
}

/** A body held in memory until `release` gives its bytes back to the budget. */
export interface BufferedBody {
  bytes: Uint8Array;
  release(): void;
}

/** A body that is not accepted; the request is answered with an error. */
export abstract class BodyRefused extends Error {
  constructor(
    message: string,
    /** The rest of the body is still on the wire: the connection cannot carry another request. */
    readonly connectionLost: boolean,
  ) {
    super(message);
  }
}

export class BodyTooLarge extends BodyRefused {
  constructor(limit: number, connectionLost: boolean) {
    super(`The request body is too large: the limit is ${limit} bytes.`, connectionLost);
  }
}

/** The shared budget is used up: the request is refused (503) and may be retried. */
export class BodyBudgetExhausted extends BodyRefused {
  constructor(limit: number, connectionLost: boolean) {
    super(
      `The server is holding as many request bodies as it buffers at once (${limit} bytes in all, DOPPEL_MAX_BUFFERED_BODY_BYTES); retry the request.`,
      connectionLost,
    );
  }
}

/**
 * How far past its limit a refused body is read and thrown away, so that the client, still
 * sending, gets to read the answer and the connection stays usable; past that it is given up.
 */
export const DISCARD_LIMIT_FACTOR = 16;

/**
 * Reads the whole body, up to `maxBytes`, taking its bytes from `budget` as they arrive (a declared
 * Content-Length is taken at once, so a body that cannot fit is refused before any of it is read).
 * A body refused while it arrives (too large, or no room left in the budget) is let go and the rest
 * read and thrown away, up to DISCARD_LIMIT_FACTOR × maxBytes, before BodyTooLarge or
 * BodyBudgetExhausted is thrown.
 */
export async function readBufferedBody(
  request: Request,
  options: { maxBytes: number; budget: BufferedBodyBudget },
): Promise<BufferedBody> {
  const { maxBytes, budget } = options;
  let taken = 0;
  const release = () => {
    budget.give(taken);
    taken = 0;
  };
  const declared = Number(request.headers.get('content-length') ?? NaN);
  const declaredFits = Number.isSafeInteger(declared) && declared > 0 && declared <= maxBytes;
  if (declaredFits) {
    if (!budget.tryTake(declared)) throw new BodyBudgetExhausted(budget.limitBytes, false);
    taken = declared;
  }
  if (!request.body) return { bytes: new Uint8Array(), release };
  // With a declared length the body is copied into one buffer as it arrives, rather than held in
  // pieces and joined at the end, which would hold it twice.
  const whole = declaredFits ? Buffer.allocUnsafe(declared) : undefined;
  let chunks: Uint8Array[] = [];
  let size = 0;
  let refusal: ((connectionLost: boolean) => BodyRefused) | undefined;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes * DISCARD_LIMIT_FACTOR) {
        await reader.cancel();
        throw (refusal ?? ((lost) => new BodyTooLarge(maxBytes, lost)))(true);
      }
      if (refusal) continue;
      if (size > maxBytes) refusal = (lost) => new BodyTooLarge(maxBytes, lost);
      else if (size > taken && !budget.tryTake(size - taken, taken)) refusal = (lost) => new BodyBudgetExhausted(budget.limitBytes, lost);
      else taken = Math.max(taken, size);
      if (refusal) {
        chunks = [];
        release();
        continue;
      }
      // HTTP framing never delivers more than Content-Length (if it did, set() would throw).
      if (whole) whole.set(value, size - value.byteLength);
      else chunks.push(value);
    }
    if (refusal) throw refusal(false);
    return { bytes: whole ? whole.subarray(0, size) : Buffer.concat(chunks), release };
  } catch (e) {
    release();
    throw e;
  }
}
