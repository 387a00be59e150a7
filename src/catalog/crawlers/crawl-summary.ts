/** What one crawl did to the catalog: kept in the crawl's task-run properties (`Summary`). */
export interface CrawlSummary {
  tablesCreated: number;
  tablesUpdated: number;
  tablesDeleted: number;
  partitionsCreated: number;
  partitionsDeleted: number;
}
