import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBInstance,
  DuckDBIntegerVector,
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBValue,
} from '@duckdb/node-api';

/**
 * One private in-memory DuckDB per table read. A fatal DuckDB error invalidates its whole database,
 * so sharing one between reads would let one bad file break the others; and an instance is cheap.
 *
 * An abort signal interrupts the running query: a read of millions of rows can then stop within a
 * moment, and it fails with the signal's reason rather than a DuckDB error.
 */
export class DuckDbSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly spillDir: string,
    readonly signal: AbortSignal | undefined,
    private readonly onAbort: () => void,
  ) {}

  static async open(signal?: AbortSignal): Promise<DuckDbSession> {
    signal?.throwIfAborted();
    // DuckDB spills large aggregates and tables to disk; by default into ./.tmp.
    const spillDir = await mkdtemp(join(tmpdir(), 'doppel-duckdb-'));
    try {
      const instance = await DuckDBInstance.create(':memory:', {
        temp_directory: spillDir,
        // Rows must come out in file order: error messages count rows, and callers see the file's order.
        preserve_insertion_order: 'true',
      });
      const connection = await instance.connect();
      const onAbort = () => connection.interrupt();
      signal?.addEventListener('abort', onAbort, { once: true });
      return new DuckDbSession(instance, connection, spillDir, signal, onAbort);
    } catch (e) {
      await rm(spillDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** A small result, read whole. */
  async rows(sql: string): Promise<DuckDBValue[][]> {
    const reader = await this.query(() => this.connection.runAndReadAll(sql));
    return reader.getRows();
  }

  async run(sql: string): Promise<void> {
    await this.query(() => this.connection.run(sql));
  }

  /**
   * A result pulled one DuckDB chunk (≤ 2048 rows) at a time. Starting another query on this
   * session abandons an unfinished stream, which is how early exits end one.
   */
  async *chunks(sql: string): AsyncGenerator<DuckDBDataChunk> {
    const result = await this.query(() => this.connection.stream(sql));
    for (;;) {
      const chunk = await this.query(() => result.fetchChunk());
      if (!chunk || chunk.rowCount === 0) return;
      yield chunk;
    }
  }

  /**
   * Appends one row per value to `table`, whose only column is text, in the order given: DuckDB's
   * appender writes rows without any SQL to parse, a quarter of a second per million short values.
   */
  async appendTexts(table: string, batches: Iterable<readonly string[]>): Promise<void> {
    const appender = await this.query(() => this.connection.createAppender(table));
    try {
      for (const batch of batches) {
        for (const value of batch) {
          appender.appendVarchar(value);
          appender.endRow();
        }
      }
    } finally {
      // Closing flushes what the appender still holds.
      appender.closeSync();
    }
  }

  async close(): Promise<void> {
    this.signal?.removeEventListener('abort', this.onAbort);
    try {
      this.connection.closeSync();
      this.instance.closeSync();
    } finally {
      await rm(this.spillDir, { recursive: true, force: true });
    }
  }

  private async query<T>(step: () => Promise<T>): Promise<T> {
    this.signal?.throwIfAborted();
    try {
      return await step();
    } catch (e) {
      // An interrupted query fails with DuckDB's "Interrupted"; the abort is what happened.
      this.signal?.throwIfAborted();
      throw e;
    }
  }
}

/**
 * An INTEGER column of a chunk as one Int32Array, to copy with `set` (a chunk in one step instead
 * of 2048 getItem calls). The node-api holds it as the vector's `items` without declaring it
 * public, so its presence is checked. NULLs are not represented: callers select values that
 * cannot be NULL.
 */
export function int32Column(chunk: DuckDBDataChunk, column: number): Int32Array {
  const vector = chunk.getColumnVector(column);
  const items: unknown = vector instanceof DuckDBIntegerVector ? vector['items'] : undefined;
  if (!(items instanceof Int32Array)) throw new Error(`column ${column} of the result is not an INTEGER vector`);
  return items;
}

/** DuckDB returns counts as bigint. */
export function toNumber(value: DuckDBValue | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/**
 * A DuckDB error message as one line naming its cause. A CSV read error's first line only says
 * where (`CSV Error on Line: 2`); the cause ("This file is not utf-8 encoded", "Expected Number of
 * Columns: 3 Found: 4", …) is the line before DuckDB's suggestions ("Possible Solution: …",
 * "Possible fixes:") and reader options, below the offending line's text, which may span lines.
 */
export function duckDbErrorSummary(message: string): string {
  const text = message.trim();
  const where = text.split('\n', 1)[0]!;
  if (!/CSV Error on Line: \d+$/.test(where)) return text.split(/\n\s*\n/)[0]!.replace(/\s*\n\s*/g, ' ');
  const end = [text.indexOf('\nPossible '), text.indexOf('\n\n'), text.length].find((i) => i >= 0)!;
  const details = text.slice(0, end).trimEnd();
  const cause = details.slice(details.lastIndexOf('\n') + 1);
  return cause === where ? where : `${where}: ${cause}`;
}
