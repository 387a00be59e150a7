import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { LABEL_BATCH_ROWS, type LabelStore } from '../label-store.js';
import type { LabelRow, Scope } from '../records.js';
import { DiskReserve } from '../disk-reserve.js';

/** Rows of generations nobody needs (see LabelStore.collectGarbage); run statuses that are in flight. */
const GARBAGE_GENERATIONS = `
  SELECT g.generation FROM label_generations g
  LEFT JOIN transforms t ON t.account_id = g.account_id AND t.region = g.region AND t.id = g.transform_id
  WHERE (t.id IS NULL OR t.label_generation != g.generation)
    AND NOT (g.task_run_id IS NOT NULL
      AND g.generation = (SELECT max(o.generation) FROM label_generations o WHERE o.task_run_id = g.task_run_id)
      AND EXISTS (SELECT 1 FROM task_runs r WHERE r.id = g.task_run_id AND r.status IN ('STARTING', 'RUNNING', 'STOPPING')))`;

/** Label generations in the metadata database (tables `labels` and `label_generations`). */
export class SqliteLabelStore implements LabelStore {
  readonly #db: Database.Database;
  /** How long the last batch write held the write lock, and when it let go (see #batch). */
  #lastWrite = { ms: 0, end: 0 };

  constructor(
    db: Database.Database,
    /** Lets garbage collection's deletes commit on a full disk (see DiskReserve). */
    private readonly reserve: DiskReserve = DiskReserve.none(),
  ) {
    this.#db = db;
  }

  async beginGeneration(scope: Scope, transformId: string, taskRunId: string) {
    return this.#db
      .transaction(() => {
        const current = this.#db
          .prepare('SELECT label_generation FROM transforms WHERE account_id = ? AND region = ? AND id = ?')
          .get(scope.accountId, scope.region, transformId) as { label_generation: number } | undefined;
        const { lastInsertRowid } = this.#db
          .prepare('INSERT INTO label_generations (account_id, region, transform_id, task_run_id) VALUES (?, ?, ?, ?)')
          .run(scope.accountId, scope.region, transformId, taskRunId);
        return { generation: Number(lastInsertRowid), basedOn: current?.label_generation ?? 0 };
      })
      .immediate();
  }

  async addRows(scope: Scope, transformId: string, generation: number, rows: readonly LabelRow[], firstSeq: number) {
    if (rows.length > LABEL_BATCH_ROWS) throw new Error(`at most ${LABEL_BATCH_ROWS} label rows per write, got ${rows.length}`);
    const insert = this.#insert();
    await this.#batch(() => {
      rows.forEach((r, i) =>
        insert.run(scope.accountId, scope.region, transformId, generation, r.labelingSetId, r.label, firstSeq + i, JSON.stringify(r.values)),
      );
    });
  }

  async carryOver(scope: Scope, transformId: string, from: number, into: number, replacedSets: Iterable<string>) {
    // The sets not to copy go into a table of this connection's own temporary database, which takes
    // no lock on the metadata database, so that the copy can run as INSERT ... SELECT.
    this.#db.exec(`CREATE TEMP TABLE IF NOT EXISTS replaced_sets (labeling_set_id TEXT PRIMARY KEY);
      DELETE FROM temp.replaced_sets`);
    const replaced = this.#db.prepare('INSERT OR IGNORE INTO temp.replaced_sets VALUES (?)');
    this.#db.transaction(() => {
      for (const set of replacedSets) replaced.run(set);
    })();
    // Copies are numbered below 1, in their order: old seq - (largest old seq + 1) is at most -1.
    const { top } = this.#db.prepare('SELECT coalesce(max(seq), 0) AS top FROM labels WHERE generation = ?').get(from) as {
      top: number;
    };
    const pageEnd = this.#db.prepare('SELECT seq FROM labels WHERE generation = ? AND seq > ? ORDER BY seq LIMIT 1 OFFSET ?');
    const copy = this.#db.prepare(
      `INSERT INTO labels (account_id, region, transform_id, generation, labeling_set_id, label, seq, record_values)
       SELECT account_id, region, transform_id, ?, labeling_set_id, label, seq - ? - 1, record_values FROM labels
       WHERE generation = ? AND seq > ? AND seq <= ? AND labeling_set_id NOT IN (SELECT labeling_set_id FROM temp.replaced_sets)`,
    );
    let rows = 0;
    for (let after = -Infinity; after < top; ) {
      const end = (pageEnd.get(from, after, LABEL_BATCH_ROWS - 1) as { seq: number } | undefined)?.seq ?? top;
      rows += (await this.#batch(() => copy.run(into, top, from, after, end))).changes;
      after = end;
    }
    const twoInASet = this.#db
      .prepare('SELECT 1 FROM labels WHERE generation = ? AND seq < 1 GROUP BY labeling_set_id HAVING count(*) >= 2 LIMIT 1')
      .get(into);
    return { rows, someSetHasTwo: twoInASet !== undefined };
  }

  async collectGarbage(): Promise<number> {
    const generations = (this.#db.prepare(GARBAGE_GENERATIONS).all() as Array<{ generation: number }>).map((g) => g.generation);
    const deleteBatch = this.#db.prepare(
      'DELETE FROM labels WHERE rowid IN (SELECT rowid FROM labels WHERE generation = ? LIMIT ?)',
    );
    const deleteGeneration = this.#db.prepare('DELETE FROM label_generations WHERE generation = ?');
    let deleted = 0;
    for (const generation of generations) {
      for (;;) {
        const { changes } = await this.#freeing(() => deleteBatch.run(generation, LABEL_BATCH_ROWS));
        deleted += changes;
        if (changes < LABEL_BATCH_ROWS) break;
      }
      await this.#freeing(() => deleteGeneration.run(generation));
    }
    return deleted;
  }

  /**
   * One batch of garbage collection, which may use the disk reserve to commit on a full disk. The
   * rows it deletes free pages inside the database, not on the disk, so there the reserve stays
   * spent; a checkpoint then moves the batch into the database file, letting the write-ahead log
   * start over for the next batch rather than grow, which the full disk would refuse.
   */
  async #freeing<T>(write: () => T): Promise<T> {
    const result = await this.reserve.freeing(() => this.#batch(write));
    if (!this.reserve.isWhole()) this.#db.pragma('wal_checkpoint(PASSIVE)');
    return result;
  }

  /**
   * One write transaction of a long series. SQLite has no queue for its write lock: a process
   * waiting for it (the API process renewing a lease) retries at intervals, and would hardly ever
   * get in between back-to-back transactions. So before each one the lock is left free for at least
   * as long as the previous one held it (time spent on other work counts): half of the time at most.
   */
  async #batch<T>(write: () => T): Promise<T> {
    const free = performance.now() - this.#lastWrite.end;
    if (free < this.#lastWrite.ms) await sleep(this.#lastWrite.ms - free);
    const started = performance.now();
    const result = this.#db.transaction(write).immediate();
    const end = performance.now();
    this.#lastWrite = { ms: end - started, end };
    return result;
  }

  #insert() {
    return this.#db.prepare(
      `INSERT INTO labels (account_id, region, transform_id, generation, labeling_set_id, label, seq, record_values)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }
}
