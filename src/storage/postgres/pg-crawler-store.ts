import { crawlerQueueKey, type CrawlerRecord, type CrawlerStore } from '../crawler-store.js';
import type { Scope } from '../records.js';
import { crawlerRow, toCrawler, writingUniqueName, type CrawlerRow } from '../rows.js';
import type { PgDatabase } from './pg-database.js';
import { insertRow } from './pg-row-inserts.js';
import { deleteAllTags, putTags } from './pg-tag-rows.js';

/** Crawlers in the PostgreSQL metadata database; their crawls are task_runs rows. */
export class PgCrawlerStore implements CrawlerStore {
  constructor(private readonly db: PgDatabase) {}

  async insertCrawler(crawler: CrawlerRecord, tags: Record<string, string>, resourceArn: string): Promise<void> {
    await this.db.tx(async (c) => {
      await writingUniqueName(`crawler ${crawler.name} exists`, () => insertRow(c, 'crawlers', crawlerRow(crawler)));
      await putTags(c, crawler, resourceArn, tags);
    });
  }

  async getCrawler(scope: Scope, name: string): Promise<CrawlerRecord | undefined> {
    const { rows } = await this.db.query<CrawlerRow>(
      'SELECT * FROM crawlers WHERE account_id = $1 AND region = $2 AND name = $3',
      [scope.accountId, scope.region, name],
    );
    return rows[0] && toCrawler(rows[0]);
  }

  async listCrawlers(scope: Scope): Promise<CrawlerRecord[]> {
    const { rows } = await this.db.query<CrawlerRow>(
      'SELECT * FROM crawlers WHERE account_id = $1 AND region = $2 ORDER BY name',
      [scope.accountId, scope.region],
    );
    return rows.map(toCrawler);
  }

  async updateCrawler(crawler: CrawlerRecord): Promise<boolean> {
    const row = crawlerRow(crawler);
    const r = await this.db.query(
      'UPDATE crawlers SET last_updated = $1, version = $2, doc = $3 WHERE account_id = $4 AND region = $5 AND name = $6',
      [row.last_updated, row.version, row.doc, row.account_id, row.region, row.name],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async deleteCrawler(scope: Scope, name: string, resourceArn: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      const r = await c.query('DELETE FROM crawlers WHERE account_id = $1 AND region = $2 AND name = $3', [
        scope.accountId,
        scope.region,
        name,
      ]);
      await c.query('DELETE FROM task_runs WHERE account_id = $1 AND region = $2 AND transform_id = $3', [
        scope.accountId,
        scope.region,
        crawlerQueueKey(name),
      ]);
      await deleteAllTags(c, scope, resourceArn);
      return (r.rowCount ?? 0) > 0;
    });
  }
}
