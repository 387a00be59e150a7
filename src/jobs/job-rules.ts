/**
 * Glue's rules for a job's capacity and settings beyond the model's constraints, as the API
 * reference states them for CreateJob, UpdateJob (JobUpdate) and StartJobRun.
 */
import { invalidInput, securityConfigurationNotFound } from '../core/errors.js';
import { num, obj, str, type Json } from '../core/wire.js';

/** Jobs may run at most 7 days. */
export const MAX_JOB_TIMEOUT_MINUTES = 10_080;
const PYTHON_SHELL = 'pythonshell';
const PYTHON_SHELL_CAPACITIES = [0.0625, 1];
const MIN_SPARK_CAPACITY = 2;
const MAX_SPARK_CAPACITY = 100;
/** Worker types that exist only from Glue 3.0 on. */
const GLUE_3_WORKER_TYPES = new Set(['G.025X', 'G.4X', 'G.8X']);

/** The MaxCapacity of a job that states no size: Glue's default for Python shell jobs, and for Spark jobs. */
export function defaultMaxCapacity(command: string | undefined): number {
  return command === PYTHON_SHELL ? 0.0625 : 10;
}

/**
 * Checks a job definition (the CreateJob request or the definition an UpdateJob leaves) and returns
 * it with the deprecated AllocatedCapacity also stated as MaxCapacity, as Glue shows it.
 */
export function checkJobDefinition(doc: Json): Json {
  const command = str(obj(doc, 'Command') ?? {}, 'Name');
  checkCapacity(doc, command);
  checkTimeout(doc);
  const version = str(doc, 'GlueVersion');
  if (str(doc, 'ExecutionClass') === 'FLEX') {
    if (command !== 'glueetl') {
      throw invalidInput(`ExecutionClass FLEX is only allowed for jobs whose Command.Name is glueetl, not ${command}.`);
    }
    if (version !== undefined && majorVersion(version) < 3) {
      throw invalidInput(`ExecutionClass FLEX is only allowed for Glue version 3.0 or later, not ${version}.`);
    }
  }
  const workerType = str(doc, 'WorkerType');
  if (workerType !== undefined && GLUE_3_WORKER_TYPES.has(workerType) && version !== undefined && majorVersion(version) < 3) {
    throw invalidInput(`WorkerType ${workerType} is available only for Glue version 3.0 or later, not ${version}.`);
  }
  checkSecurityConfiguration(doc);
  const allocated = num(doc, 'AllocatedCapacity');
  return allocated === undefined ? doc : { ...doc, MaxCapacity: allocated };
}

/**
 * StartJobRun's own capacity, timeout and security configuration. A run may override one member of
 * the job's sizing (NumberOfWorkers alone, say), so only what excludes each other within the
 * request itself is refused, beside values a job definition could not hold either.
 */
export function checkJobRunRequest(request: Json, job: Json): void {
  checkExclusiveCapacity(request);
  const command = str(obj(job, 'Command') ?? {}, 'Name');
  checkWorkerCount(request);
  const stated = statedCapacity(request);
  if (stated) {
    checkCapacityForVersion(stated, command, str(job, 'GlueVersion'));
    checkCapacityValue(stated, command);
  }
  checkTimeout(request);
  checkSecurityConfiguration(request);
}

function checkTimeout(doc: Json): void {
  const timeout = num(doc, 'Timeout');
  if (timeout !== undefined && timeout > MAX_JOB_TIMEOUT_MINUTES) {
    throw invalidInput(`Jobs must have timeout values less than 7 days or ${MAX_JOB_TIMEOUT_MINUTES} minutes, got Timeout ${timeout}.`);
  }
}

function checkWorkerCount(doc: Json): void {
  const workers = num(doc, 'NumberOfWorkers');
  if (workers !== undefined && workers < 1) throw invalidInput('NumberOfWorkers should be >= 1.');
}

/** A Python shell job takes 0.0625 or 1 DPU, any other job a whole number from 2 to 100. */
function checkCapacityValue({ member, capacity }: { member: string; capacity: number }, command: string | undefined): void {
  if (command === PYTHON_SHELL) {
    if (!PYTHON_SHELL_CAPACITIES.includes(capacity)) {
      throw invalidInput(`${member} of a Python shell job must be ${PYTHON_SHELL_CAPACITIES.join(' or ')} DPU, got ${capacity}.`);
    }
  } else if (!Number.isInteger(capacity) || capacity < MIN_SPARK_CAPACITY || capacity > MAX_SPARK_CAPACITY) {
    throw invalidInput(
      `${member} must be a whole number of DPUs from ${MIN_SPARK_CAPACITY} to ${MAX_SPARK_CAPACITY}, got ${capacity}.`,
    );
  }
}

/** The capacity a request states in DPUs, and the member it states it in (MaxCapacity or the deprecated AllocatedCapacity). */
function statedCapacity(doc: Json): { member: string; capacity: number } | undefined {
  const allocated = num(doc, 'AllocatedCapacity');
  if (allocated !== undefined) return { member: 'AllocatedCapacity', capacity: allocated };
  const maxCapacity = num(doc, 'MaxCapacity');
  return maxCapacity === undefined ? undefined : { member: 'MaxCapacity', capacity: maxCapacity };
}

/**
 * From Glue 2.0 on, Spark and Ray jobs are sized by workers only; Python shell jobs keep their
 * MaxCapacity (0.0625 or 1 DPU) on every version. A job without a GlueVersion runs on 0.9.
 */
function checkCapacityForVersion(stated: { member: string; capacity: number }, command: string | undefined, version: string | undefined): void {
  if (command === PYTHON_SHELL || version === undefined || majorVersion(version) < 2) return;
  throw invalidInput(
    'For Glue version 2.0+ jobs, you cannot specify a Maximum capacity. Instead, you should specify a Worker type ' +
      `and the Number of workers (got ${stated.member} ${stated.capacity} with GlueVersion ${version}).`,
  );
}

/** MaxCapacity, the deprecated AllocatedCapacity and WorkerType / NumberOfWorkers exclude each other. */
function checkExclusiveCapacity(doc: Json): void {
  const capacity = num(doc, 'AllocatedCapacity') ?? num(doc, 'MaxCapacity');
  if (num(doc, 'AllocatedCapacity') !== undefined && num(doc, 'MaxCapacity') !== undefined) {
    throw invalidInput('Please set only Allocated Capacity or Max Capacity');
  }
  if (capacity !== undefined && (str(doc, 'WorkerType') !== undefined || num(doc, 'NumberOfWorkers') !== undefined)) {
    throw invalidInput('Do not set MaxCapacity if using WorkerType and NumberOfWorkers.');
  }
}

function checkCapacity(doc: Json, command: string | undefined): void {
  checkExclusiveCapacity(doc);
  const workerType = str(doc, 'WorkerType');
  const workers = num(doc, 'NumberOfWorkers');
  if ((workerType === undefined) !== (workers === undefined)) {
    throw invalidInput('Both WorkerType and NumberOfWorkers should be set.');
  }
  checkWorkerCount(doc);
  if (workerType === 'Z.2X' && command !== 'glueray') {
    throw invalidInput(`WorkerType Z.2X is for Ray jobs (Command.Name glueray), not ${command}.`);
  }
  if (command === 'glueray' && workerType !== undefined && workerType !== 'Z.2X') {
    throw invalidInput(`Ray jobs (Command.Name glueray) accept only WorkerType Z.2X, not ${workerType}.`);
  }
  if (workerType === 'G.025X' && command !== 'gluestreaming') {
    throw invalidInput(`WorkerType G.025X is for streaming jobs (Command.Name gluestreaming), not ${command}.`);
  }
  const stated = statedCapacity(doc);
  if (!stated) return;
  checkCapacityForVersion(stated, command, str(doc, 'GlueVersion'));
  checkCapacityValue(stated, command);
}

function checkSecurityConfiguration(doc: Json): void {
  const name = str(doc, 'SecurityConfiguration');
  if (name !== undefined) throw securityConfigurationNotFound(name, 'SecurityConfiguration');
}

/** The major number of a Glue version (`major.minor`). */
function majorVersion(version: string): number {
  return Number(version.split('.')[0]);
}
