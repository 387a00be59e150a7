import type { Scope } from './records.js';

/**
 * A Glue crawler definition. `doc` holds the wire members other than Name, CreationTime,
 * LastUpdated and Version (Role, Targets, DatabaseName, SchemaChangePolicy, ...). Its crawls are
 * CRAWL task runs in the task queue (see crawlerQueueKey): their state is the crawler's state.
 */
export interface CrawlerRecord extends Scope {
  name: string;
  createdOn: number;
  lastUpdated: number;
  /** Starts at 1; UpdateCrawler adds one. */
  version: number;
  doc: Record<string, unknown>;
}

/**
 * The key a crawler's crawls are queued under (the task queue's `transformId`): it cannot be a
 * transform id (those start with `tfm-`), so a crawler's runs and a transform's never mix.
 */
export const crawlerQueueKey = (name: string) => `crawler/${name}`;

/** Crawler definitions (each method one atomic write). */
export interface CrawlerStore {
  /** Inserts the crawler and its tags (kept under `resourceArn`); StoreConflict('name-taken') on a duplicate name. */
  insertCrawler(crawler: CrawlerRecord, tags: Record<string, string>, resourceArn: string): Promise<void>;
  getCrawler(scope: Scope, name: string): Promise<CrawlerRecord | undefined>;
  /** By name. */
  listCrawlers(scope: Scope): Promise<CrawlerRecord[]>;
  /** Replaces the stored definition (matched by name); false when it does not exist. */
  updateCrawler(crawler: CrawlerRecord): Promise<boolean>;
  /** Deletes the crawler, its tags and its crawls; false when it did not exist. */
  deleteCrawler(scope: Scope, name: string, resourceArn: string): Promise<boolean>;
}
