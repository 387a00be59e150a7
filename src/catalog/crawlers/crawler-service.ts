import { randomUUID } from 'node:crypto';
import { alreadyExists, entityNotFound, invalidInput, ServiceError, validationError } from '../../core/errors.js';
import { paginate, type PageRequest, type SortKey } from '../../core/pagination.js';
import type { RequestContext } from '../../core/request-context.js';
import { compact, num, obj, str, toWireTime, type Json } from '../../core/wire.js';
import { crawlerQueueKey, type CrawlerRecord } from '../../storage/crawler-store.js';
import { StoreConflict, type MetadataStore } from '../../storage/metadata-store.js';
import { startingTaskRun, TERMINAL_TASK_STATUSES, type Scope, type TaskRunRecord } from '../../storage/records.js';
import { taggedWith } from '../../tags/tagged-with.js';
import type { TaskRunEvents } from '../../tasks/task-run-service.js';
import { assertNoReservedTags } from '../catalog-service.js';
import { checkOptions, checkTargets } from './crawler-rules.js';
import type { CrawlSummary } from './crawl-summary.js';

export const crawlerArn = (s: Scope, name: string) => `arn:aws:glue:${s.region}:${s.accountId}:crawler/${name}`;

/** The definition members CreateCrawler and UpdateCrawler take (besides Name and Tags). */
const DEFINITION_MEMBERS = [
  'Role', 'DatabaseName', 'Description', 'Targets', 'Schedule', 'Classifiers', 'TablePrefix', 'SchemaChangePolicy',
  'RecrawlPolicy', 'LineageConfiguration', 'LakeFormationConfiguration', 'Configuration', 'CrawlerSecurityConfiguration',
] as const;

/** Glue's defaults for a crawler that leaves them out. */
const DEFAULTS: Json = {
  Classifiers: [],
  SchemaChangePolicy: { UpdateBehavior: 'UPDATE_IN_DATABASE', DeleteBehavior: 'DEPRECATE_IN_DATABASE' },
  RecrawlPolicy: { RecrawlBehavior: 'CRAWL_EVERYTHING' },
  LineageConfiguration: { CrawlerLineageSettings: 'DISABLE' },
  LakeFormationConfiguration: { UseLakeFormationCredentials: false, AccountId: '' },
};

/** Where Glue would have written a crawl's log: reported as Glue reports it (doppel logs to its own output). */
const LOG_GROUP = '/aws-glue/crawlers';

type CrawlerState = 'READY' | 'RUNNING' | 'STOPPING';

/** A crawl as the API reports it: one CRAWL task run of the crawler. */
interface Crawl {
  run: TaskRunRecord;
  state: 'RUNNING' | 'COMPLETED' | 'FAILED' | 'STOPPED';
  endedOn?: number;
  summary?: CrawlSummary;
}

/**
 * The Glue crawler API. A crawl is a CRAWL task run queued under the crawler's key (see
 * crawlerQueueKey) and executed by a task process (tasks/kinds/crawl-task.ts), never here: the
 * crawler's State, LastCrawl, metrics and ListCrawls history are all read from its task runs, so
 * they need no bookkeeping of their own and survive restarts (a crawl cut short by one is resumed
 * by the task queue, not left RUNNING).
 */
export class CrawlerService {
  constructor(
    private readonly store: MetadataStore,
    private readonly events: TaskRunEvents,
  ) {}

  async create(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'Name')!;
    const tags = (obj(input, 'Tags') ?? {}) as Record<string, string>;
    assertNoReservedTags(tags);
    const doc = definitionOf(input, DEFAULTS);
    const now = Date.now();
    try {
      await this.store.crawlers.insertCrawler(
        { accountId: ctx.accountId, region: ctx.region, name, createdOn: now, lastUpdated: now, version: 1, doc },
        tags,
        crawlerArn(ctx, name),
      );
    } catch (e) {
      if (e instanceof StoreConflict && e.kind === 'name-taken') throw alreadyExists(`Crawler with name ${name} has already been created.`);
      throw e;
    }
    return {};
  }

  async #require(ctx: RequestContext, name: string): Promise<CrawlerRecord> {
    const crawler = await this.store.crawlers.getCrawler(ctx, name);
    if (!crawler) throw entityNotFound(`Crawler ${name} not found.`);
    return crawler;
  }

  /** The crawler's crawls, newest first. */
  async #crawls(ctx: RequestContext, name: string): Promise<Crawl[]> {
    const runs = await this.store.tasks.list(ctx, crawlerQueueKey(name));
    return runs.sort((a, b) => b.startedOn - a.startedOn || (a.id < b.id ? 1 : -1)).map(crawlOf);
  }

  /** The queue's clock, read when a crawler being shown runs and then once for the whole request. */
  #clockOnce(): () => Promise<number> {
    let now: Promise<number> | undefined;
    return () => (now ??= this.store.tasks.clock());
  }

  async #toWire(ctx: RequestContext, crawler: CrawlerRecord, clock: () => Promise<number>): Promise<Json> {
    const crawls = await this.#crawls(ctx, crawler.name);
    const latest = crawls[0];
    const state = stateOf(latest);
    const last = crawls.find((c) => c.state !== 'RUNNING');
    return compact({
      ...crawler.doc,
      Name: crawler.name,
      State: state,
      CrawlElapsedTime: state !== 'READY' && latest ? (await clock()) - latest.run.startedOn : 0,
      CreationTime: toWireTime(crawler.createdOn),
      LastUpdated: toWireTime(crawler.lastUpdated),
      Version: crawler.version,
      LastCrawl: last
        ? compact({
            Status: last.state === 'COMPLETED' ? 'SUCCEEDED' : last.state === 'STOPPED' ? 'CANCELLED' : 'FAILED',
            ErrorMessage: last.run.errorString,
            LogGroup: LOG_GROUP,
            LogStream: crawler.name,
            MessagePrefix: last.run.id,
            StartTime: toWireTime(last.run.startedOn),
          })
        : undefined,
    });
  }

  async get(ctx: RequestContext, input: Json): Promise<Json> {
    return { Crawler: await this.#toWire(ctx, await this.#require(ctx, str(input, 'Name')!), this.#clockOnce()) };
  }

  async getMany(ctx: RequestContext, input: Json): Promise<Json> {
    const { page, nextToken } = pageOf(await this.store.crawlers.listCrawlers(ctx), (c) => [c.name, c.name], {
      nextToken: str(input, 'NextToken'),
      maxResults: num(input, 'MaxResults'),
      defaultPageSize: 100,
      fingerprint: ['GetCrawlers'],
    });
    const crawlers: Json[] = [];
    const clock = this.#clockOnce();
    for (const c of page) crawlers.push(await this.#toWire(ctx, c, clock));
    return compact({ Crawlers: crawlers, NextToken: nextToken });
  }

  /** The names of the account's crawlers, by name, or of those with every tag in Tags. */
  async listNames(ctx: RequestContext, input: Json): Promise<Json> {
    const wantedTags = obj(input, 'Tags') as Record<string, string> | undefined;
    const crawlers = await taggedWith(this.store, ctx, await this.store.crawlers.listCrawlers(ctx), (c) => crawlerArn(ctx, c.name), wantedTags);
    const { page, nextToken } = pageOf(crawlers, (c) => [c.name, c.name], {
      nextToken: str(input, 'NextToken'),
      maxResults: num(input, 'MaxResults'),
      defaultPageSize: 100,
      fingerprint: ['ListCrawlers', wantedTags ?? {}],
    });
    return compact({ CrawlerNames: page.map((c) => c.name), NextToken: nextToken });
  }

  /** The named crawlers in the order asked for (each once); names with no crawler go into CrawlersNotFound. */
  async batchGet(ctx: RequestContext, input: Json): Promise<Json> {
    const crawlers: Json[] = [];
    const notFound: string[] = [];
    const clock = this.#clockOnce();
    for (const name of new Set(input['CrawlerNames'] as string[])) {
      const crawler = await this.store.crawlers.getCrawler(ctx, name);
      if (crawler) crawlers.push(await this.#toWire(ctx, crawler, clock));
      else notFound.push(name);
    }
    return { Crawlers: crawlers, CrawlersNotFound: notFound };
  }

  /** Members UpdateCrawler gives replace the stored ones; the others are kept. Refused while a crawl runs. */
  async update(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'Name')!;
    const current = await this.#require(ctx, name);
    await this.#refuseWhileRunning(ctx, name);
    const doc = definitionOf(input, current.doc);
    // An empty Description removes it (DescriptionStringRemovable).
    if (doc['Description'] === '') delete doc['Description'];
    const ok = await this.store.crawlers.updateCrawler({ ...current, lastUpdated: Date.now(), version: current.version + 1, doc });
    if (!ok) throw entityNotFound(`Crawler ${name} not found.`);
    return {};
  }

  async delete(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'Name')!;
    await this.#require(ctx, name);
    await this.#refuseWhileRunning(ctx, name);
    if (!(await this.store.crawlers.deleteCrawler(ctx, name, crawlerArn(ctx, name)))) throw entityNotFound(`Crawler ${name} not found.`);
    return {};
  }

  /** UpdateCrawler and DeleteCrawler model CrawlerRunningException only, also for a crawl being stopped. */
  async #refuseWhileRunning(ctx: RequestContext, name: string): Promise<void> {
    const state = stateOf((await this.#crawls(ctx, name))[0]);
    if (state !== 'READY') throw new ServiceError('CrawlerRunningException', `Crawler with name ${name} is ${state === 'RUNNING' ? 'running' : 'stopping'}.`);
  }

  async start(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'Name')!;
    await this.#require(ctx, name);
    const now = await this.store.tasks.clock();
    // Crawl ids are UUIDs, as Glue's are.
    const run = startingTaskRun(ctx, { transformId: crawlerQueueKey(name), id: randomUUID(), taskType: 'CRAWL', properties: { CrawlerName: name }, args: {} }, now);
    try {
      await this.store.tasks.enqueue(run, { maxActivePerTransform: 1 });
    } catch (e) {
      if (e instanceof StoreConflict && e.kind === 'concurrency-limit') {
        throw new ServiceError('CrawlerRunningException', `Crawler with name ${name} has already started.`);
      }
      throw e;
    }
    this.events.enqueued();
    return {};
  }

  async stop(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'Name')!;
    await this.#require(ctx, name);
    const latest = (await this.#crawls(ctx, name))[0];
    const state = stateOf(latest);
    if (state === 'READY') throw new ServiceError('CrawlerNotRunningException', `Crawler with name ${name} is not running.`);
    if (state === 'STOPPING') throw new ServiceError('CrawlerStoppingException', `Crawler with name ${name} is already stopping.`);
    const run = await this.store.tasks.requestCancel(ctx, crawlerQueueKey(name), latest!.run.id, await this.store.tasks.clock());
    if (run?.status === 'STOPPING') this.events.cancelRequested(run.id);
    return {};
  }

  async metrics(ctx: RequestContext, input: Json): Promise<Json> {
    const wanted = input['CrawlerNameList'] as string[] | undefined;
    let crawlers = await this.store.crawlers.listCrawlers(ctx);
    if (wanted && wanted.length > 0) crawlers = crawlers.filter((c) => wanted.includes(c.name));
    const { page, nextToken } = pageOf(crawlers, (c) => [c.name, c.name], {
      nextToken: str(input, 'NextToken'),
      maxResults: num(input, 'MaxResults'),
      defaultPageSize: 100,
      fingerprint: ['GetCrawlerMetrics', wanted ?? []],
    });
    const list: Json[] = [];
    const now = await this.store.tasks.clock();
    for (const crawler of page) list.push(metricsOf(crawler.name, await this.#crawls(ctx, crawler.name), now));
    return compact({ CrawlerMetricsList: list, NextToken: nextToken });
  }

  /** The crawler's crawls, newest first, narrowed by Filters (every one must hold). */
  async listCrawls(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'CrawlerName')!;
    if (!(await this.store.crawlers.getCrawler(ctx, name))) throw entityNotFound(`Crawler entry with name ${name} does not exist`);
    const filters = ((input['Filters'] as Json[] | undefined) ?? []).map(crawlFilterOf);
    const crawls = (await this.#crawls(ctx, name)).filter((c) => filters.every((f) => f(c)));
    const { page, nextToken } = paginate(crawls, (c) => [-c.run.startedOn, c.run.id], false, {
      nextToken: str(input, 'NextToken'),
      maxResults: num(input, 'MaxResults'),
      defaultPageSize: 100,
      fingerprint: ['ListCrawls', name, input['Filters'] ?? []],
    });
    return compact({ Crawls: page.map(historyOf), NextToken: nextToken });
  }
}

/**
 * A page of crawlers by name. GetCrawlers, ListCrawlers and GetCrawlerMetrics model no
 * InvalidInputException, so a NextToken they did not hand out is a ValidationException there.
 */
function pageOf<T>(items: T[], keyOf: (item: T) => SortKey, req: PageRequest) {
  try {
    return paginate(items, keyOf, false, req);
  } catch (e) {
    if (e instanceof ServiceError && e.type === 'InvalidInputException') throw validationError(e.message);
    throw e;
  }
}

/** The definition members of a CreateCrawler/UpdateCrawler request over `base`, checked. */
function definitionOf(input: Json, base: Json): Json {
  const doc: Json = { ...base };
  for (const m of DEFINITION_MEMBERS) if (input[m] !== undefined) doc[m] = input[m];
  if (input['SchemaChangePolicy'] !== undefined) {
    doc['SchemaChangePolicy'] = { ...(DEFAULTS['SchemaChangePolicy'] as Json), ...(input['SchemaChangePolicy'] as Json) };
  }
  checkTargets((doc['Targets'] as Json | undefined) ?? {});
  checkOptions(doc);
  return doc;
}

function crawlOf(run: TaskRunRecord): Crawl {
  const summary = run.properties['Summary'] as CrawlSummary | undefined;
  const base = { run, ...(summary ? { summary } : {}) };
  if (!TERMINAL_TASK_STATUSES.has(run.status)) return { ...base, state: 'RUNNING' };
  const endedOn = run.completedOn;
  const state = run.status === 'SUCCEEDED' ? 'COMPLETED' : run.status === 'STOPPED' ? 'STOPPED' : 'FAILED';
  return { ...base, state, ...(endedOn !== undefined ? { endedOn } : {}) };
}

function stateOf(latest: Crawl | undefined): CrawlerState {
  if (!latest || latest.state !== 'RUNNING') return 'READY';
  return latest.run.status === 'STOPPING' ? 'STOPPING' : 'RUNNING';
}

/** How long the crawl ran, or has run by `now` (the queue's clock, which its start is on). */
const seconds = (c: Crawl, now: number) => ((c.endedOn ?? now) - c.run.startedOn) / 1000;

function metricsOf(name: string, crawls: Crawl[], now: number): Json {
  const running = crawls[0]?.state === 'RUNNING' ? crawls[0] : undefined;
  const done = crawls.filter((c) => c.state !== 'RUNNING');
  const succeeded = done.filter((c) => c.state === 'COMPLETED');
  const runtimes = done.map((c) => seconds(c, now)).sort((a, b) => a - b);
  const median = runtimes.length === 0 ? 0 : (runtimes[(runtimes.length - 1) >> 1]! + runtimes[runtimes.length >> 1]!) / 2;
  const last = succeeded[0]?.summary;
  return {
    CrawlerName: name,
    TimeLeftSeconds: running && median > 0 ? Math.max(0, median - seconds(running, now)) : 0,
    StillEstimating: running !== undefined && runtimes.length === 0,
    LastRuntimeSeconds: done[0] ? seconds(done[0], now) : 0,
    MedianRuntimeSeconds: median,
    TablesCreated: last?.tablesCreated ?? 0,
    TablesUpdated: last?.tablesUpdated ?? 0,
    TablesDeleted: last?.tablesDeleted ?? 0,
  };
}

function historyOf(c: Crawl): Json {
  return compact({
    CrawlId: c.run.id,
    State: c.state,
    StartTime: toWireTime(c.run.startedOn),
    EndTime: c.endedOn !== undefined ? toWireTime(c.endedOn) : undefined,
    Summary: c.summary ? summaryText(c.summary) : undefined,
    ErrorMessage: c.run.errorString,
    LogGroup: LOG_GROUP,
    LogStream: c.run.properties['CrawlerName'] as string,
    MessagePrefix: c.run.id,
    DPUHour: 0,
  });
}

/** Summary as Glue writes it: counts of what the crawl did, by kind of object and action. */
function summaryText(s: CrawlSummary): string {
  const counts = (add: number, update: number, del: number) =>
    compact({
      ADD: add > 0 ? { Count: add } : undefined,
      UPDATE: update > 0 ? { Count: update } : undefined,
      DELETE: del > 0 ? { Count: del } : undefined,
    });
  return JSON.stringify(
    compact({
      TABLE: s.tablesCreated + s.tablesUpdated + s.tablesDeleted > 0 ? counts(s.tablesCreated, s.tablesUpdated, s.tablesDeleted) : undefined,
      PARTITION: s.partitionsCreated + s.partitionsDeleted > 0 ? counts(s.partitionsCreated, 0, s.partitionsDeleted) : undefined,
    }),
  );
}

/** ListCrawls' CrawlsFilter as a test of a crawl. */
function crawlFilterOf(filter: Json): (c: Crawl) => boolean {
  const field = str(filter, 'FieldName');
  const operator = str(filter, 'FilterOperator');
  const text = str(filter, 'FieldValue');
  if (field === undefined || operator === undefined || text === undefined) {
    throw invalidInput(`Invalid Filter Provided: FieldName: ${field ?? null}, FilterOperator: ${operator ?? null}, FieldValue: ${text ?? null}`);
  }
  // An identifier or a state has no order.
  if ((field === 'CRAWL_ID' || field === 'STATE') && operator !== 'EQ' && operator !== 'NE') {
    throw invalidInput(`Only EQ or NE operator is allowed for field : ${field}`);
  }
  const compare = (a: string | number, b: string | number): boolean => {
    switch (operator) {
      case 'GT': return a > b;
      case 'GE': return a >= b;
      case 'LT': return a < b;
      case 'LE': return a <= b;
      case 'NE': return a !== b;
      default: return a === b;
    }
  };
  switch (field) {
    case 'CRAWL_ID':
      return (c) => compare(c.run.id, text);
    case 'STATE':
      return (c) => compare(c.state, text.toUpperCase());
    case 'DPU_HOUR': {
      const value = Number(text);
      if (!Number.isFinite(value)) throw invalidInput(`Filters[].FieldValue ${text} is not a number (DPU_HOUR).`);
      return (_c) => compare(0, value);
    }
    default: {
      // START_TIME, END_TIME: epoch milliseconds or a date and time Date.parse reads.
      const value = /^\d+$/.test(text.trim()) ? Number(text) : Date.parse(text);
      if (!Number.isFinite(value)) throw invalidInput(`Filters[].FieldValue ${text} is not a time (${field}): give epoch milliseconds or an ISO 8601 time.`);
      return field === 'START_TIME'
        ? (c) => compare(c.run.startedOn, value)
        : (c) => c.endedOn !== undefined && compare(c.endedOn, value);
    }
  }
}
