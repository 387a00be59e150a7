import { invalidInput, securityConfigurationNotFound } from '../core/errors.js';
import { num, obj, str, type Json } from '../core/wire.js';

/**
 * The worker types ML transforms accept (the model's enum is shared with jobs, which accept more),
 * with the DPUs each worker provides, from which MaxCapacity is derived.
 */
const DPU_PER_WORKER: Record<string, number> = {
  Standard: 1,
  'G.1X': 1,
  'G.2X': 2,
};

/** The Glue versions FindMatches runs on: 0.9, 1.0 (since 2019) and 2.0 (since 2022). */
export const TRANSFORM_GLUE_VERSIONS = ['0.9', '1.0', '2.0'] as const;

export const MIN_MAX_CAPACITY = 2;
export const MAX_MAX_CAPACITY = 100;
export const MIN_WORKERS = 1;

/**
 * Capacity members after a create or an update: MaxCapacity and WorkerType/NumberOfWorkers are
 * mutually exclusive ways to size a run; with workers, MaxCapacity is derived and read-only, so an
 * update cannot set it on a transform sized by workers.
 */
export function resolveCapacity(input: Json, current?: Json): Json {
  const maxCapacity = num(input, 'MaxCapacity');
  const workerType = str(input, 'WorkerType');
  const workers = num(input, 'NumberOfWorkers');
  if (maxCapacity !== undefined && (workerType !== undefined || workers !== undefined)) {
    throw invalidInput('Cannot set Max Capacity and Worker Num/Type at the same time.');
  }
  const currentWorkerType = current ? str(current, 'WorkerType') : undefined;
  if (maxCapacity !== undefined && currentWorkerType !== undefined) {
    throw invalidInput(
      `MaxCapacity cannot be set on this transform: it is sized by WorkerType (${currentWorkerType}) and ` +
        'NumberOfWorkers, from which MaxCapacity is derived. Update WorkerType and NumberOfWorkers instead.',
    );
  }
  if (maxCapacity !== undefined) {
    if (maxCapacity < MIN_MAX_CAPACITY) throw invalidInput(`MaxCapacity should be >= ${MIN_MAX_CAPACITY}.`);
    if (maxCapacity > MAX_MAX_CAPACITY) throw invalidInput(`MaxCapacity should be <= ${MAX_MAX_CAPACITY}.`);
    return { MaxCapacity: maxCapacity };
  }
  const type = workerType ?? currentWorkerType;
  const count = workers ?? (current ? num(current, 'NumberOfWorkers') : undefined);
  if (workerType !== undefined || workers !== undefined) {
    if (type === undefined || count === undefined) {
      throw invalidInput('Both WorkerType and NumberOfWorkers should be set.');
    }
    const dpus = DPU_PER_WORKER[type];
    if (dpus === undefined) {
      throw invalidInput(
        `WorkerType ${type} is not supported for ML transforms: use ${Object.keys(DPU_PER_WORKER).join(', ')}.`,
      );
    }
    if (count < MIN_WORKERS) throw invalidInput(`NumberOfWorkers should be >= ${MIN_WORKERS}.`);
    return { WorkerType: type, NumberOfWorkers: count, MaxCapacity: count * dpus };
  }
  if (current) {
    return {
      MaxCapacity: current['MaxCapacity'],
      WorkerType: current['WorkerType'],
      NumberOfWorkers: current['NumberOfWorkers'],
    };
  }
  return { MaxCapacity: 10.0 };
}

export function checkGlueVersion(input: Json): void {
  const version = str(input, 'GlueVersion');
  if (version !== undefined && !(TRANSFORM_GLUE_VERSIONS as readonly string[]).includes(version)) {
    throw invalidInput(
      `GlueVersion ${version} is not supported for ML transforms: use ${TRANSFORM_GLUE_VERSIONS.join(', ')}.`,
    );
  }
}

/** FindMatches needs its parameters and a primary key, although the model marks both optional. */
export function checkParameters(parameters: Json): Json {
  const fm = obj(parameters, 'FindMatchesParameters');
  if (!fm) throw invalidInput('Find Matches parameters have not been set.');
  const pk = str(fm, 'PrimaryKeyColumnName');
  if (pk === undefined || pk.trim() === '') {
    throw invalidInput('A primary key must be specified in Find Matches parameters.');
  }
  return fm;
}

export function checkMaxRetries(input: Json): void {
  const maxRetries = num(input, 'MaxRetries');
  if (maxRetries !== undefined && maxRetries < 0) throw invalidInput('Max retries should be non-negative.');
}

export function checkEncryption(input: Json): void {
  const enc = obj(input, 'TransformEncryption');
  const user = enc && obj(enc, 'MlUserDataEncryption');
  if (user && str(user, 'MlUserDataEncryptionMode') === 'SSE-KMS' && !str(user, 'KmsKeyId')) {
    throw invalidInput('KmsKeyId must be provided when MlUserDataEncryptionMode is SSE-KMS.');
  }
  const securityConfiguration = enc && str(enc, 'TaskRunSecurityConfigurationName');
  if (securityConfiguration !== undefined) {
    throw securityConfigurationNotFound(securityConfiguration, 'TransformEncryption.TaskRunSecurityConfigurationName');
  }
}

/** Hive primitive types FindMatches can compare; complex types are rejected as AWS does. */
const PRIMITIVE_TYPE =
  /^(string|char\(\d+\)|varchar\(\d+\)|tinyint|smallint|int|integer|bigint|float|double|decimal(\(\d+(,\s*\d+)?\))?|boolean|date|timestamp)$/i;

export interface SchemaColumn {
  Name: string;
  DataType: string;
}

/** The transform's Schema: the table's columns then its partition keys, in order. */
export function schemaFromTable(tableDoc: Json, primaryKey: string): SchemaColumn[] {
  const sd = obj(tableDoc, 'StorageDescriptor') ?? {};
  const columns = [
    ...((sd['Columns'] as Json[] | undefined) ?? []),
    ...((tableDoc['PartitionKeys'] as Json[] | undefined) ?? []),
  ];
  if (columns.length === 0) throw invalidInput('Schema is not defined on the transform.');
  if (columns.length > 100) {
    throw invalidInput("The data source table that you choose for the job can't have more than 100 columns");
  }
  const schema = columns.map((c) => ({ Name: String(c['Name']), DataType: String(c['Type'] ?? 'string') }));
  for (const c of schema) {
    if (!PRIMITIVE_TYPE.test(c.DataType.trim())) {
      throw invalidInput(`Input source column ${c.Name} has an invalid data type defined in the catalog.`);
    }
  }
  if (!schema.some((c) => c.Name === primaryKey)) {
    throw invalidInput(`Schema should contain given primary key: ${primaryKey}.`);
  }
  return schema;
}
