/**
 * Request bodies held in memory: read within a per-request limit and within one budget shared by
 * every request in flight, so that many large bodies arriving at once cannot grow the server
 * without bound.
 */

/** Bytes of request bodies held in memory at once, across all requests. */
export class BufferedBodyBudget {
  private held = 0;
  private mostHeld = 0;

  constructor(readonly limitBytes: number) {}

  /**
   * Takes `bytes` more for a body that holds `heldByBody` already; false when that would pass the
   * limit. A body that is the only one held is always given room (its own limit bounds it), so no
   * request size that fits the per-request limit can be refused forever.
   */
  tryTake(bytes: number, heldByBody = 0): boolean {
    if (!this.hasRoomFor(bytes, heldByBody)) return false;
    this.held += bytes;
    this.mostHeld = Math.max(this.mostHeld, this.held);
    return true;
  }

  /** The most ever held at once, which the server logs when it stops (to size the budget by). */
  get peak(): number {
    return this.mostHeld;
  }

  /** Whether `tryTake` would take `bytes` now, without taking them. */
  hasRoomFor(bytes: number, heldByBody = 0): boolean {
    return this.held <= heldByBody || this.held + bytes <= this.limitBytes;
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
 * The client stopped sending in the middle of the body: nothing arrived for the idle timeout while
 * the server waited for it. The request is answered and the connection closed.
 */
export class BodyIdleTimeout extends BodyRefused {
  constructor(readonly idleMs: number) {
    super(
      `No part of the request body arrived for ${idleMs / 1000} s (DOPPEL_BODY_IDLE_TIMEOUT_SECONDS): the request is given up.`,
      true,
    );
  }
}

/**
 * The request with a body that fails with BodyIdleTimeout when the server waits `idleMs` for the
 * client's next bytes. Only the wait for the client counts: a body the server reads slowly (writing
 * it to disk, say) never times out. The original body is not cancelled on a timeout, so the
 * connection is still there to carry the answer. The body is opened on the first read only: a
 * request refused on its headers has none of its body read here.
 *
 * (node:http's own timeouts do not fit: `requestTimeout` bounds the whole request however steadily
 * it arrives, and a socket's idle timeout also runs while the server works on a request.)
 */
export function withBodyIdleTimeout(request: Request, idleMs: number): Request {
  if (request.method === 'GET' || request.method === 'HEAD') return request;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= request.body?.getReader();
        if (!reader) {
          controller.close();
          return;
        }
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BodyIdleTimeout(idleMs)), idleMs);
        });
        try {
          const { done, value } = await Promise.race([reader.read(), idle]);
          if (done) controller.close();
          else controller.enqueue(value);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel: (reason) => reader?.cancel(reason),
    },
    // Nothing is read ahead of the reader: no read, no timer.
    { highWaterMark: 0 },
  );
  return new Request(request.url, { method: request.method, headers: request.headers, body, duplex: 'half' } as RequestInit);
}

/**
 * How far past its limit a refused body is read and thrown away, so that the client, still
 * sending, gets to read the answer and the connection stays usable; past that it is given up.
 */
export const DISCARD_LIMIT_FACTOR = 16;

/**
 * Reads the whole body, up to `maxBytes`, taking its bytes from `budget` as they arrive, so a client
 * that declares a large body and sends little of it holds little. A declared Content-Length that
 * cannot fit beside the bodies held now is refused before any of the body is read. A body refused
 * while it arrives (too large, or no room left in the budget) is let go and the rest read and
 * thrown away, up to DISCARD_LIMIT_FACTOR × maxBytes, before BodyTooLarge or BodyBudgetExhausted is
 * thrown.
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
  if (Number.isSafeInteger(declared) && declared > 0 && declared <= maxBytes && !budget.hasRoomFor(declared)) {
    throw new BodyBudgetExhausted(budget.limitBytes, false);
  }
  if (!request.body) return { bytes: new Uint8Array(), release };
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
      else if (!budget.tryTake(value.byteLength, taken)) refusal = (lost) => new BodyBudgetExhausted(budget.limitBytes, lost);
      else taken += value.byteLength;
      if (refusal) {
        chunks = [];
        release();
        continue;
      }
      chunks.push(value);
    }
    if (refusal) throw refusal(false);
    // Joining the pieces copies them once, for as long as the concatenation takes.
    return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), release };
  } catch (e) {
    release();
    // A client that stalls while its refused body is being thrown away learns why it was refused.
    if (e instanceof BodyIdleTimeout && refusal) throw refusal(true);
    throw e;
  }
}
