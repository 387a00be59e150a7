import { LABEL_BATCH_ROWS, type LabelStore } from '../label-store.js';
import type { LabelRow, Scope } from '../records.js';
import type { PgDatabase } from './pg-database.js';

/** Rows of generations nobody needs (see LabelStore.collectGarbage); run statuses that are in flight. */
const GARBAGE_GENERATIONS = `
  SELECT g.generation FROM label_generations g
  LEFT JOIN transforms t ON t.account_id = g.account_id AND t.region = g.region AND t.id = g.transform_id
  WHERE (t.id IS NULL OR t.label_generation != g.generation)
    AND NOT (g.task_run_id IS NOT NULL
      AND g.generation = (SELECT max(o.generation) FROM label_generations o WHERE o.task_run_id = g.task_run_id)
      AND EXISTS (SELECT 1 FROM task_runs r WHERE r.id = g.task_run_id AND r.status IN ('STARTING', 'RUNNING', 'STOPPING')))`;

/**
 * Label generations in the PostgreSQL metadata database (tables `labels` and `label_generations`).
 * Writers do not block each other's readers here, so batches need no pacing; they stay at
 * LABEL_BATCH_ROWS rows so that no transaction is long.
 */
export class PgLabelStore implements LabelStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async beginGeneration(scope: Scope, transformId: string, taskRunId: string) {
    // One statement: the current generation as of the insert.
    const { rows } = await this.#db.query<{ generation: number; based_on: number }>(
      `INSERT INTO label_generations (account_id, region, transform_id, task_run_id) VALUES ($1, $2, $3, $4)
       RETURNING generation, coalesce((SELECT label_generation FROM transforms
         WHERE account_id = $1 AND region = $2 AND id = $3), 0) AS based_on`,
      [scope.accountId, scope.region, transformId, taskRunId],
    );
    return { generation: rows[0]!.generation, basedOn: rows[0]!.based_on };
  }

  async addRows(scope: Scope, transformId: string, generation: number, rows: readonly LabelRow[], firstSeq: number) {
    if (rows.length > LABEL_BATCH_ROWS) throw new Error(`at most ${LABEL_BATCH_ROWS} label rows per write, got ${rows.length}`);
    if (rows.length === 0) return;
    await this.#db.query(
      `INSERT INTO labels (account_id, region, transform_id, generation, labeling_set_id, label, seq, record_values)
       SELECT $1, $2, $3, $4, s, l, $5 + ord - 1, v
       FROM unnest($6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS r(s, l, v, ord)`,
      [
        scope.accountId,
        scope.region,
        transformId,
        generation,
        firstSeq,
        rows.map((r) => r.labelingSetId),
        rows.map((r) => r.label),
        rows.map((r) => JSON.stringify(r.values)),
      ],
    );
  }

  async carryOver(scope: Scope, transformId: string, from: number, into: number, replacedSets: Iterable<string>) {
    const replaced = [...new Set(replacedSets)];
    // Copies are numbered below 1, in their order: old seq - (largest old seq + 1) is at most -1.
    const { top } = (
      await this.#db.query<{ top: number }>('SELECT coalesce(max(seq), 0) AS top FROM labels WHERE generation = $1', [from])
    ).rows[0]!;
    let rows = 0;
    for (let after: number | null = null; after === null || after < top; ) {
      const end: number =
        (
          await this.#db.query<{ seq: number }>(
            `SELECT seq FROM labels WHERE generation = $1 AND ($2::bigint IS NULL OR seq > $2) ORDER BY seq LIMIT 1 OFFSET $3`,
            [from, after, LABEL_BATCH_ROWS - 1],
          )
        ).rows[0]?.seq ?? top;
      const copied = await this.#db.query(
        `INSERT INTO labels (account_id, region, transform_id, generation, labeling_set_id, label, seq, record_values)
         SELECT account_id, region, transform_id, $1, labeling_set_id, label, seq - $2 - 1, record_values FROM labels
         WHERE generation = $3 AND ($4::bigint IS NULL OR seq > $4) AND seq <= $5 AND labeling_set_id <> ALL($6::text[])`,
        [into, top, from, after, end, replaced],
      );
      rows += copied.rowCount ?? 0;
      after = end;
    }
    const twoInASet = await this.#db.query(
      'SELECT 1 FROM labels WHERE generation = $1 AND seq < 1 GROUP BY labeling_set_id HAVING count(*) >= 2 LIMIT 1',
      [into],
    );
    return { rows, someSetHasTwo: (twoInASet.rowCount ?? 0) > 0 };
  }

  async collectGarbage(): Promise<number> {
    const generations = (await this.#db.query<{ generation: number }>(GARBAGE_GENERATIONS)).rows.map((g) => g.generation);
    let deleted = 0;
    for (const generation of generations) {
      for (;;) {
        const res = await this.#db.query(
          'DELETE FROM labels WHERE ctid = ANY(ARRAY(SELECT ctid FROM labels WHERE generation = $1 LIMIT $2))',
          [generation, LABEL_BATCH_ROWS],
        );
        deleted += res.rowCount ?? 0;
        if ((res.rowCount ?? 0) < LABEL_BATCH_ROWS) break;
      }
      await this.#db.query('DELETE FROM label_generations WHERE generation = $1', [generation]);
    }
    return deleted;
  }
}
