import type Database from 'better-sqlite3';
import { crawlerQueueKey, type CrawlerRecord, type CrawlerStore } from '../crawler-store.js';
import type { DiskReserve } from '../disk-reserve.js';
import type { Scope } from '../records.js';
import { crawlerRow, toCrawler, writingUniqueName, type CrawlerRow } from '../rows.js';
import { insertRows } from './row-inserts.js';
import { deleteAllTags, putTags } from './tag-rows.js';

/** Crawlers in the metadata store's SQLite file (table from the crawlers migration); their crawls are task_runs rows. */
export class SqliteCrawlerStore implements CrawlerStore {
  constructor(
    private readonly db: Database.Database,
    /** Lets deletes commit on a full disk (see DiskReserve). */
    private readonly reserve: DiskReserve,
  ) {}

  #tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  async insertCrawler(crawler: CrawlerRecord, tags: Record<string, string>, resourceArn: string): Promise<void> {
    this.#tx(() => {
      writingUniqueName(`crawler ${crawler.name} exists`, () => insertRows(this.db, 'crawlers', [crawlerRow(crawler)]));
      putTags(this.db, crawler, resourceArn, tags);
    });
  }

  async getCrawler(scope: Scope, name: string): Promise<CrawlerRecord | undefined> {
    const row = this.db
      .prepare('SELECT * FROM crawlers WHERE account_id = ? AND region = ? AND name = ?')
      .get(scope.accountId, scope.region, name) as CrawlerRow | undefined;
    return row && toCrawler(row);
  }

  async listCrawlers(scope: Scope): Promise<CrawlerRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM crawlers WHERE account_id = ? AND region = ? ORDER BY name')
      .all(scope.accountId, scope.region) as CrawlerRow[];
    return rows.map(toCrawler);
  }

  async updateCrawler(crawler: CrawlerRecord): Promise<boolean> {
    const r = this.db
      .prepare(
        `UPDATE crawlers SET last_updated = @last_updated, version = @version, doc = @doc
         WHERE account_id = @account_id AND region = @region AND name = @name`,
      )
      .run(crawlerRow(crawler));
    return r.changes > 0;
  }

  async deleteCrawler(scope: Scope, name: string, resourceArn: string): Promise<boolean> {
    return this.reserve.freeing(async () =>
      this.#tx(() => {
        const r = this.db
          .prepare('DELETE FROM crawlers WHERE account_id = ? AND region = ? AND name = ?')
          .run(scope.accountId, scope.region, name);
        this.db
          .prepare('DELETE FROM task_runs WHERE account_id = ? AND region = ? AND transform_id = ?')
          .run(scope.accountId, scope.region, crawlerQueueKey(name));
        deleteAllTags(this.db, scope, resourceArn);
        return r.changes > 0;
      }),
    );
  }
}
