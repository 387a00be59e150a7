import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { LABEL_BATCH_ROWS, type LabelStore } from '../label-store.js';
import type { LabelRow, Scope } from '../records.js';

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

  constructor(db: Database.Database) {
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
    this.#db
      .transaction(() => {
        rows.forEach((r, i) =>
          insert.run(scope.accountId, scope.region, transformId, generation, r.labelingSetId, r.label, firstSeq + i, JSON.stringify(r.values)),
        );
      })
      .immediate();
  }

  async carryOver(scope: Scope, transformId: string, from: number, into: number, keep: (labelingSetId: string) => boolean) {
    // Copies are numbered below 1, in their order: old seq - (largest old seq + 1) is at most -1.
    const { top } = this.#db.prepare('SELECT coalesce(max(seq), 0) AS top FROM labels WHERE generation = ?').get(from) as {
      top: number;
    };
    const page = this.#db.prepare(
      'SELECT labeling_set_id, label, seq, record_values FROM labels WHERE generation = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    const insert = this.#insert();
    const perSet = new Map<string, number>();
    let rows = 0;
    for (let after = -Infinity; ; ) {
      const copied = this.#db
        .transaction(() => {
          const batch = page.all(from, after, LABEL_BATCH_ROWS) as Array<{
            labeling_set_id: string;
            label: string;
            seq: number;
            record_values: string;
          }>;
          for (const r of batch) {
            if (!keep(r.labeling_set_id)) continue;
            insert.run(scope.accountId, scope.region, transformId, into, r.labeling_set_id, r.label, r.seq - top - 1, r.record_values);
            perSet.set(r.labeling_set_id, (perSet.get(r.labeling_set_id) ?? 0) + 1);
            rows++;
          }
          return batch;
        })
        .immediate();
      if (copied.length < LABEL_BATCH_ROWS) break;
      after = copied[copied.length - 1]!.seq;
      await yieldToEventLoop();
    }
    return { rows, someSetHasTwo: [...perSet.values()].some((n) => n >= 2) };
  }

  async collectGarbage(): Promise<number> {
    const generations = (this.#db.prepare(GARBAGE_GENERATIONS).all() as Array<{ generation: number }>).map((g) => g.generation);
    const deleteBatch = this.#db.prepare(
      'DELETE FROM labels WHERE rowid IN (SELECT rowid FROM labels WHERE generation = ? LIMIT ?)',
    );
    let deleted = 0;
    for (const generation of generations) {
      for (;;) {
        const { changes } = deleteBatch.run(generation, LABEL_BATCH_ROWS);
        deleted += changes;
        if (changes < LABEL_BATCH_ROWS) break;
        await yieldToEventLoop();
      }
      this.#db.prepare('DELETE FROM label_generations WHERE generation = ?').run(generation);
    }
    return deleted;
  }

  #insert() {
    return this.#db.prepare(
      `INSERT INTO labels (account_id, region, transform_id, generation, labeling_set_id, label, seq, record_values)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }
}
