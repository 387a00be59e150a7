import { invalidInput } from '../../core/errors.js';
import type { Json } from '../../core/wire.js';
import { parseS3Uri, S3UriError } from '../../storage/s3-uri.js';

/**
 * What doppel's crawlers can do, checked when a crawler is created or updated (after the model's
 * own checks): S3 targets only, the built-in classifiers, no schedule. Anything a crawl could not
 * honour is refused naming the member (InvalidInputException, which both operations model),
 * rather than stored and ignored.
 */

/** Target kinds besides S3Targets; Glue clients often send them as empty lists, which is fine. */
const OTHER_TARGETS = ['JdbcTargets', 'MongoDBTargets', 'DynamoDBTargets', 'CatalogTargets', 'DeltaTargets', 'IcebergTargets', 'HudiTargets'];

/** S3Target.SampleSize: Glue takes 1 to 249 files per leaf folder. */
const MAX_SAMPLE_SIZE = 249;

export function checkTargets(targets: Json): void {
  for (const kind of OTHER_TARGETS) {
    const list = targets[kind];
    if (Array.isArray(list) && list.length > 0) {
      throw invalidInput(`Targets.${kind} is not supported: doppel's crawlers crawl S3 targets (Targets.S3Targets) only.`);
    }
  }
  const s3 = (targets['S3Targets'] as Json[] | undefined) ?? [];
  s3.forEach((target, i) => {
    const member = `Targets.S3Targets[${i}]`;
    const path = target['Path'];
    if (typeof path !== 'string') throw invalidInput(`${member}.Path is required: the s3://bucket/prefix to crawl.`);
    try {
      parseS3Uri(path);
    } catch (e) {
      if (e instanceof S3UriError) throw invalidInput(`${member}.Path: ${e.message}`);
      throw e;
    }
    for (const unsupported of ['ConnectionName', 'EventQueueArn', 'DlqEventQueueArn']) {
      if (target[unsupported] !== undefined) {
        throw invalidInput(`${member}.${unsupported} is not supported: doppel crawls its own object store directly, without connections or S3 event queues.`);
      }
    }
    const sample = target['SampleSize'];
    if (sample !== undefined && sample !== null && (typeof sample !== 'number' || !Number.isInteger(sample) || sample < 1 || sample > MAX_SAMPLE_SIZE)) {
      throw invalidInput(`${member}.SampleSize must be a whole number from 1 to ${MAX_SAMPLE_SIZE}, got ${String(sample)}.`);
    }
  });
}

/** The crawler options a crawl honours; `definition` is the stored crawler document. */
export function checkOptions(definition: Json): void {
  if (definition['Schedule'] !== undefined) {
    throw invalidInput('Schedule is not supported: doppel does not run crawlers on a schedule; start a crawl with StartCrawler.');
  }
  const classifiers = definition['Classifiers'] as string[] | undefined;
  if (classifiers && classifiers.length > 0) {
    throw invalidInput(`Classifiers is not supported: doppel has no custom classifiers (${classifiers[0]}); its crawlers use the built-in CSV, JSON and Parquet classifiers.`);
  }
  const security = definition['CrawlerSecurityConfiguration'];
  if (typeof security === 'string' && security !== '') {
    throw invalidInput(`CrawlerSecurityConfiguration is not supported: doppel has no security configurations (${security}), so leave it out.`);
  }
  const lakeFormation = definition['LakeFormationConfiguration'] as Json | undefined;
  if (lakeFormation?.['UseLakeFormationCredentials'] === true) {
    throw invalidInput('LakeFormationConfiguration.UseLakeFormationCredentials is not supported: doppel has no Lake Formation.');
  }
  const lineage = definition['LineageConfiguration'] as Json | undefined;
  if (lineage?.['CrawlerLineageSettings'] === 'ENABLE') {
    throw invalidInput('LineageConfiguration.CrawlerLineageSettings ENABLE is not supported: doppel records no data lineage.');
  }
  const recrawl = (definition['RecrawlPolicy'] as Json | undefined)?.['RecrawlBehavior'];
  if (recrawl === 'CRAWL_EVENT_MODE') {
    throw invalidInput('RecrawlPolicy.RecrawlBehavior CRAWL_EVENT_MODE is not supported: doppel has no S3 event queues.');
  }
  const policy = (definition['SchemaChangePolicy'] as Json | undefined) ?? {};
  if (recrawl === 'CRAWL_NEW_FOLDERS_ONLY' && (policy['UpdateBehavior'] !== 'LOG' || policy['DeleteBehavior'] !== 'LOG')) {
    // Glue's rule: a crawl of new folders only changes no existing table.
    throw invalidInput('RecrawlPolicy.RecrawlBehavior CRAWL_NEW_FOLDERS_ONLY requires SchemaChangePolicy UpdateBehavior LOG and DeleteBehavior LOG.');
  }
  const configuration = definition['Configuration'];
  if (typeof configuration === 'string' && configuration.trim() !== '') crawlerConfigurationOf(configuration);
}

/** The parts of a crawler's Configuration JSON that a crawl honours. */
export interface CrawlerConfiguration {
  /** Grouping.TableGroupingPolicy CombineCompatibleSchemas: one table for compatible folders, whatever their schemas' similarity. */
  combineCompatibleSchemas: boolean;
}

/**
 * Reads a crawler's Configuration (Version 1.0): Grouping.TableGroupingPolicy
 * CombineCompatibleSchemas, and CrawlerOutput.Partitions.AddOrUpdateBehavior InheritFromTable
 * (what doppel's partitions do anyway: they carry the table's columns). Every other option is
 * refused by its path.
 */
export function crawlerConfigurationOf(text: string | undefined): CrawlerConfiguration {
  const result: CrawlerConfiguration = { combineCompatibleSchemas: false };
  if (text === undefined || text.trim() === '') return result;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalidInput(`Configuration is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidInput('Configuration must be a JSON object.');
  const refuse = (path: string): never => {
    throw invalidInput(
      `Configuration ${path} is not supported: doppel's crawlers honour Version, Grouping.TableGroupingPolicy ` +
        '(CombineCompatibleSchemas) and CrawlerOutput.Partitions.AddOrUpdateBehavior (InheritFromTable).',
    );
  };
  for (const [key, value] of Object.entries(parsed as Json)) {
    if (key === 'Version') {
      if (value !== 1 && value !== 1.0) refuse(`Version ${JSON.stringify(value)}`);
    } else if (key === 'Grouping' && isObject(value)) {
      for (const [g, v] of Object.entries(value)) {
        if (g === 'TableGroupingPolicy' && v === 'CombineCompatibleSchemas') result.combineCompatibleSchemas = true;
        else refuse(`Grouping.${g}`);
      }
    } else if (key === 'CrawlerOutput' && isObject(value)) {
      for (const [o, v] of Object.entries(value)) {
        if (o !== 'Partitions' || !isObject(v)) refuse(`CrawlerOutput.${o}`);
        for (const [p, b] of Object.entries(v as Json)) {
          if (p !== 'AddOrUpdateBehavior' || b !== 'InheritFromTable') refuse(`CrawlerOutput.Partitions.${p}`);
        }
      }
    } else {
      refuse(key);
    }
  }
  return result;
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
