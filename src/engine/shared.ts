/**
 * Typed arrays on SharedArrayBuffers: the prepared table, the candidates and the scores are read by
 * the engine's worker threads without copying (a structured clone of a SharedArrayBuffer shares it).
 */

type TypedArrayConstructor<T> = { new (buffer: SharedArrayBuffer, byteOffset?: number, length?: number): T; BYTES_PER_ELEMENT: number };

function allocate<T>(ctor: TypedArrayConstructor<T>, length: number): T {
  return new ctor(new SharedArrayBuffer(Math.max(0, length) * ctor.BYTES_PER_ELEMENT));
}

export const sharedInt32 = (n: number) => allocate(Int32Array, n);
export const sharedUint32 = (n: number) => allocate(Uint32Array, n);
export const sharedUint16 = (n: number) => allocate(Uint16Array, n);
export const sharedUint8 = (n: number) => allocate(Uint8Array, n);
export const sharedFloat32 = (n: number) => allocate(Float32Array, n);
export const sharedFloat64 = (n: number) => allocate(Float64Array, n);

type Numeric = Int32Array | Uint32Array | Uint16Array | Uint8Array | Float32Array | Float64Array;

/** A shared copy of the first `length` elements of `a`. */
export function toShared<T extends Numeric>(a: T, length = a.length): T {
  const ctor = a.constructor as unknown as TypedArrayConstructor<T>;
  const out = allocate(ctor, length) as unknown as Numeric;
  out.set(a.subarray(0, length) as never);
  return out as unknown as T;
}

/** An append-only typed array that doubles as it grows; `shared()` hands out the final copy. */
export class GrowableArray<T extends Numeric> {
  length = 0;
  constructor(
    private data: T,
    private readonly make: (n: number) => T,
  ) {}

  push(v: number): void {
    if (this.length === this.data.length) this.#grow(this.length + 1);
    this.data[this.length++] = v;
  }

  /** Adds `delta` to element i (which must exist). */
  add(i: number, delta: number): void {
    this.data[i] = (this.data[i] as number) + delta;
  }

  #grow(min: number): void {
    const next = this.make(Math.max(min, this.data.length * 2, 16));
    (next as Numeric).set(this.data as never);
    this.data = next;
  }

  shared(): T {
    return toShared(this.data, this.length);
  }
}

export const growInt32 = () => new GrowableArray(new Int32Array(1024), (n) => new Int32Array(n));
export const growUint32 = () => new GrowableArray(new Uint32Array(1024), (n) => new Uint32Array(n));
export const growUint16 = () => new GrowableArray(new Uint16Array(1024), (n) => new Uint16Array(n));
export const growFloat32 = () => new GrowableArray(new Float32Array(1024), (n) => new Float32Array(n));
