import { assertNoReservedTags } from '../catalog/catalog-service.js';
import { entityNotFound, invalidInput, transformNotFound } from '../core/errors.js';
import type { RequestContext } from '../core/request-context.js';
import { obj, str, type Json } from '../core/wire.js';
import { StoreConflict, type MetadataStore } from '../storage/metadata-store.js';

const MAX_TAGS = 50;

/** arn:<partition>:glue:<region>:<account>:<type>/<name...> */
const GLUE_ARN = /^arn:(aws(?:-[a-z-]+)?):glue:([^:]*):([^:]*):([A-Za-z]+)\/(.+)$/;
/**
 * The partition of every ARN the service writes. Tags are kept under the ARN string, so an ARN of
 * another partition would keep a second set of tags that the resource's own ARN never shows.
 */
const PARTITION = 'aws';

/** Tags on Glue resources, addressed by ARN (ML transforms, jobs, crawlers, databases and tables). */
export class TagService {
  constructor(private readonly store: MetadataStore) {}

  /** Checks the ARN names an existing resource of the caller's account and region. */
  async #resolve(ctx: RequestContext, arn: string): Promise<string> {
    const m = GLUE_ARN.exec(arn);
    if (!m) throw invalidInput(`Invalid resource ARN: ${arn}`);
    const [, partition, region, account, type, rest] = m as unknown as [string, string, string, string, string, string];
    if (partition !== PARTITION) {
      throw invalidInput(`The ARN's partition ${partition} does not match this service's partition, ${PARTITION}.`);
    }
    if (region !== ctx.region) {
      throw invalidInput(`The ARN's region ${region} does not match the region of the request, ${ctx.region}.`);
    }
    if (account !== ctx.accountId) {
      throw invalidInput(`The ARN's account ${account} does not match the caller's account.`);
    }
    switch (type) {
      case 'mlTransform':
        if (!(await this.store.getTransform(ctx, rest))) {
          throw transformNotFound(ctx.accountId, rest);
        }
        return arn;
      case 'database':
        if (!(await this.store.getDatabase(ctx, ctx.accountId, rest))) {
          throw entityNotFound(`Database ${rest} not found.`);
        }
        return arn;
      case 'job':
        if (!(await this.store.jobs.getJob(ctx, rest))) throw entityNotFound(`Job with name: ${rest} not found.`);
        return arn;
      case 'crawler':
        if (!(await this.store.crawlers.getCrawler(ctx, rest))) throw entityNotFound(`Crawler ${rest} not found.`);
        return arn;
      case 'table': {
        const [db, table] = rest.split('/', 2);
        if (!db || !table || !(await this.store.getTable(ctx, ctx.accountId, db, table))) {
          throw entityNotFound(`Table ${rest} not found.`);
        }
        return arn;
      }
      default:
        throw invalidInput(`Tagging is not supported for resource type ${type} in this service.`);
    }
  }

  async tagResource(ctx: RequestContext, input: Json): Promise<Json> {
    const arn = await this.#resolve(ctx, str(input, 'ResourceArn')!);
    const add = (obj(input, 'TagsToAdd') ?? {}) as Record<string, string>;
    assertNoReservedTags(add);
    await this.#update(ctx, arn, add, []);
    return {};
  }

  async untagResource(ctx: RequestContext, input: Json): Promise<Json> {
    const arn = await this.#resolve(ctx, str(input, 'ResourceArn')!);
    const remove = (input['TagsToRemove'] as string[] | undefined) ?? [];
    await this.#update(ctx, arn, {}, remove);
    return {};
  }

  async #update(ctx: RequestContext, arn: string, add: Record<string, string>, remove: string[]) {
    try {
      await this.store.updateTags(ctx, arn, add, remove, { maxTags: MAX_TAGS });
    } catch (e) {
      if (e instanceof StoreConflict && e.kind === 'tag-limit') {
        throw invalidInput(
          `A resource can have at most ${MAX_TAGS} tags; this change would give it ${e.detail['count']}.`,
        );
      }
      throw e;
    }
  }

  async getTags(ctx: RequestContext, input: Json): Promise<Json> {
    const arn = await this.#resolve(ctx, str(input, 'ResourceArn')!);
    return { Tags: await this.store.getTags(ctx, arn) };
  }
}
