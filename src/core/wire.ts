import { parseRequestTimestamp } from './timestamp.js';

/** Small helpers for reading validated request members and writing response members. */

/** Epoch milliseconds → the wire's epoch seconds (fractional). */
export const toWireTime = (ms: number): number => ms / 1000;

/**
 * A request timestamp (already checked by the model validator, with the same parser) → epoch
 * milliseconds.
 */
export function fromWireTime(v: unknown): number {
  const date = parseRequestTimestamp(v);
  if (!date) throw new Error(`not a timestamp: ${String(v)}`);
  return date.getTime();
}

/** Drops undefined members so absent optional members are omitted on the wire. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export type Json = Record<string, unknown>;

export const str = (o: Json, k: string): string | undefined =>
  typeof o[k] === 'string' ? (o[k] as string) : undefined;
export const num = (o: Json, k: string): number | undefined =>
  typeof o[k] === 'number' ? (o[k] as number) : undefined;
export const obj = (o: Json, k: string): Json | undefined =>
  o[k] !== null && typeof o[k] === 'object' && !Array.isArray(o[k]) ? (o[k] as Json) : undefined;
export const arr = (o: Json, k: string): unknown[] | undefined =>
  Array.isArray(o[k]) ? (o[k] as unknown[]) : undefined;
