import { crawlerQueueKey, type CrawlerRecord, type CrawlerStore } from '../crawler-store.js';
import type { Scope } from '../records.js';
import { toCrawler, writingUniqueName, type CrawlerRow } from '../rows.js';
import type { PgDatabase } from './pg-database.js';
import { deleteAllTags, putTags } from './pg-tag-rows.js';

/** Crawlers in the PostgreSQL metadata database; their crawls are task_runs rows. */
export class PgCrawlerStore implements CrawlerStore {
  constructor(private readonly db: PgDatabase) {}

  async insertCrawler(crawler: CrawlerRecord, tags: Record<string, string>, resourceArn: string): Promise<void> {
    await this.db.tx(async (c) => {
      await writingUniqueName(`crawler ${crawler.name} exists`, () =>
        c.query(
          `INSERT INTO crawlers (account_id, region, name, created_on, last_updated, version, doc)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            crawler.accountId,
            crawler.region,
            crawler.name,
            crawler.createdOn,
            crawler.lastUpdated,
            crawler.version,
            JSON.stringify(crawler.doc),
          ],
        ),
      );
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
    const r = await this.db.query(
      'UPDATE crawlers SET last_updated = $1, version = $2, doc = $3 WHERE account_id = $4 AND region = $5 AND name = $6',
      [crawler.lastUpdated, crawler.version, JSON.stringify(crawler.doc), crawler.accountId, crawler.region, crawler.name],
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
