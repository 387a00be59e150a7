import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk, type DuckDBValue } from '@duckdb/node-api';

/**
 * One private in-memory DuckDB per table read. A fatal DuckDB error invalidates its whole database,
 * so sharing one between reads would let one bad file break the others; and an instance is cheap.
 */
export class DuckDbSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly spillDir: string,
  ) {}

  static async open(): Promise<DuckDbSession> {
    // DuckDB spills large aggregates (the duplicate-key check) to disk; by default into ./.tmp.
    const spillDir = await mkdtemp(join(tmpdir(), 'doppel-duckdb-'));
    try {
      const instance = await DuckDBInstance.create(':memory:', {
        temp_directory: spillDir,
        // Rows must come out in file order: error messages count rows, and callers see the file's order.
        preserve_insertion_order: 'true',
      });
      return new DuckDbSession(instance, await instance.connect(), spillDir);
    } catch (e) {
      await rm(spillDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** A small result, read whole. */
  async rows(sql: string): Promise<DuckDBValue[][]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRows();
  }

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /**
   * A result pulled one DuckDB chunk (≤ 2048 rows) at a time. Starting another query on this
   * session abandons an unfinished stream, which is how early exits end one.
   */
  async *chunks(sql: string): AsyncGenerator<DuckDBDataChunk> {
    const result = await this.connection.stream(sql);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      yield chunk;
    }
  }

  async close(): Promise<void> {
    try {
      this.connection.closeSync();
      this.instance.closeSync();
    } finally {
      await rm(this.spillDir, { recursive: true, force: true });
    }
  }
}

/** A text cell of a chunk: the readers make every column VARCHAR. */
export function textAt(chunk: DuckDBDataChunk, column: number, row: number): string | null {
  const value = chunk.getColumnVector(column).getItem(row);
  return value === null ? null : String(value);
}

/** DuckDB returns counts as bigint. */
export function toNumber(value: DuckDBValue | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}
