import { crawl, CrawlFailure } from '../../catalog/crawlers/crawl.js';
import type { MetadataStore } from '../../storage/metadata-store.js';
import { TaskFailure, type CrawlContext, type CrawlHandler, type TaskResult } from '../task-handler.js';

/**
 * CRAWL: one crawl of a crawler (catalog/crawlers/crawl.ts). Its catalog changes and its summary
 * are committed with SUCCEEDED, so a crawl stopped or cut short changes nothing and can run again.
 */
export function crawlTask(deps: { store: MetadataStore }): CrawlHandler {
  return {
    async execute(ctx: CrawlContext): Promise<TaskResult> {
      try {
        const { change, summary } = await crawl(ctx.crawler, ctx.run.startedOn, { store: deps.store, objects: ctx.objects, progress: ctx.progress });
        return { catalogChange: change, properties: { Summary: summary } };
      } catch (e) {
        if (e instanceof CrawlFailure) throw new TaskFailure(e.message);
        throw e;
      }
    },
  };
}
