/**
 * What the SQLite stores share in turning rows into records and writes into StoreConflicts: every
 * resource row starts with its scope and keeps the rest of its members as a JSON document.
 */
import { StoreConflict } from '../metadata-store.js';
import type { Scope } from '../records.js';

/** SQL NULL as an absent member: records leave unset optional members out rather than null. */
export const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The scope columns every resource row has. */
export const scopeOf = (r: { account_id: string; region: string }): Scope => ({
  accountId: r.account_id,
  region: r.region,
});

/** A row's `doc` column: the record's wire-shaped members that have no column of their own. */
export const docOf = (doc: string) => JSON.parse(doc) as Record<string, unknown>;

const isUniqueViolation = (e: unknown) =>
  e instanceof Error && (e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;

/**
 * Runs a write to a table whose unique key includes the resource's name, so that a violation of
 * it reaches the service as StoreConflict('name-taken', message) rather than a SQLite error.
 */
export function writingUniqueName<T>(message: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    if (isUniqueViolation(e)) throw new StoreConflict('name-taken', message);
    throw e;
  }
}
