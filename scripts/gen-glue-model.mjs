#!/usr/bin/env node
// Generates src/core/glue-model/glue-shapes.ts from botocore's AWS Glue API model.
//
// Usage: node scripts/gen-glue-model.mjs [path/to/service-2.json[.gz]]
// Without a path, the model of the botocore installed for `python3` is used.
//
// Only the operations doppel serves (OPERATIONS below) and the shapes reachable from their input
// and output shapes are kept, and only the facts the server needs (types, members, required
// lists, constraints, enums, timestamp formats): the output stays small, deterministic (sorted
// keys) and free of AWS's documentation text. The server never needs python at run time.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';

const OPERATIONS = [
  // ML transforms and task runs
  'CreateMLTransform', 'GetMLTransform', 'GetMLTransforms', 'ListMLTransforms', 'UpdateMLTransform',
  'DeleteMLTransform', 'StartMLLabelingSetGenerationTaskRun', 'StartImportLabelsTaskRun',
  'StartExportLabelsTaskRun', 'StartMLEvaluationTaskRun', 'GetMLTaskRun', 'GetMLTaskRuns',
  'CancelMLTaskRun',
  // tagging
  'TagResource', 'UntagResource', 'GetTags',
  // Data Catalog subset
  'CreateDatabase', 'GetDatabase', 'GetDatabases', 'DeleteDatabase', 'CreateTable', 'GetTable',
  'GetTables', 'UpdateTable', 'DeleteTable', 'UpdateDatabase',
  // Data Catalog partitions, table versions, batch and search operations
  'CreatePartition', 'BatchCreatePartition', 'GetPartition', 'GetPartitions', 'UpdatePartition',
  'DeletePartition', 'BatchDeletePartition', 'BatchGetPartition', 'BatchUpdatePartition', 'BatchDeleteTable',
  'GetTableVersions', 'GetTableVersion', 'DeleteTableVersion', 'BatchDeleteTableVersion', 'SearchTables',
  // jobs
  'CreateJob', 'GetJob', 'GetJobs', 'UpdateJob', 'DeleteJob', 'StartJobRun', 'GetJobRun',
  'GetJobRuns', 'BatchStopJobRun', 'ListJobs', 'BatchGetJobs',
  // crawlers
  'CreateCrawler', 'GetCrawler', 'GetCrawlers', 'UpdateCrawler', 'DeleteCrawler', 'StartCrawler',
  'StopCrawler', 'GetCrawlerMetrics', 'ListCrawlers', 'ListCrawls', 'BatchGetCrawlers',
];

/** Shape-level facts copied verbatim when present; everything else (documentation, box, …) is dropped. */
const KEPT_FACTS = ['type', 'required', 'min', 'max', 'pattern', 'enum', 'timestampFormat', 'document', 'union'];

const OUTPUT = new URL('../src/core/glue-model/glue-shapes.ts', import.meta.url).pathname;

function defaultModelPath() {
  const probe = spawnSync('python3', ['-c', 'import botocore,os;print(os.path.dirname(botocore.__file__))'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) {
    throw new Error(`cannot locate botocore (pass the model path as an argument):\n${probe.stderr}`);
  }
  return join(probe.stdout.trim(), 'data', 'glue', '2017-03-31', 'service-2.json.gz');
}

function readModel(path) {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return { model: JSON.parse(text), sha256: createHash('sha256').update(text).digest('hex') };
}

/** Names of all shapes reachable from the given roots (members, list members, map keys/values). */
function reachableShapes(shapes, roots) {
  const seen = new Set();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop();
    if (seen.has(name)) continue;
    const shape = shapes[name];
    if (!shape) throw new Error(`model references unknown shape ${name}`);
    seen.add(name);
    for (const member of Object.values(shape.members ?? {})) pending.push(member.shape);
    if (shape.member) pending.push(shape.member.shape);
    if (shape.key) pending.push(shape.key.shape);
    if (shape.value) pending.push(shape.value.shape);
  }
  return seen;
}

function ref(target) {
  return { shape: target.shape };
}

function factsOf(shape) {
  const facts = {};
  for (const key of KEPT_FACTS) if (key in shape) facts[key] = shape[key];
  if (shape.type === 'structure') {
    facts.members = Object.fromEntries(Object.entries(shape.members ?? {}).map(([name, m]) => [name, ref(m)]));
  }
  if (shape.member) facts.member = ref(shape.member);
  if (shape.key) facts.key = ref(shape.key);
  if (shape.value) facts.value = ref(shape.value);
  return facts;
}

/** Deep copy with object keys sorted (arrays keep their order: enum order is meaningful in messages). */
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

function render(entries) {
  const lines = Object.entries(sortKeys(entries)).map(([name, value]) => `  ${JSON.stringify(name)}: ${JSON.stringify(value)},`);
  return `{\n${lines.join('\n')}\n}`;
}

function main() {
  const path = process.argv[2] ?? defaultModelPath();
  const { model, sha256 } = readModel(path);

  const operations = {};
  const roots = [];
  for (const name of OPERATIONS) {
    const op = model.operations[name];
    if (!op) throw new Error(`operation ${name} is not in the model`);
    const entry = { errors: (op.errors ?? []).map((e) => e.shape) };
    if (op.input) {
      entry.input = op.input.shape;
      roots.push(op.input.shape);
    }
    if (op.output) {
      entry.output = op.output.shape;
      roots.push(op.output.shape);
    }
    operations[name] = entry;
  }

  const shapes = {};
  for (const name of reachableShapes(model.shapes, roots)) shapes[name] = factsOf(model.shapes[name]);

  const source = `// Generated from the AWS Glue API model (botocore service-2.json, apiVersion ${model.metadata.apiVersion},
// sha256 ${sha256}) by scripts/gen-glue-model.mjs.
// Do not edit by hand: run \`npm run gen:model\` instead.
import type { OperationModel, Shape } from './shape.js';

export const GLUE_OPERATIONS: Record<string, OperationModel> = ${render(operations)};

export const GLUE_SHAPES: Record<string, Shape> = ${render(shapes)};
`;
  writeFileSync(OUTPUT, source);
  console.log(`wrote ${OUTPUT}: ${OPERATIONS.length} operations, ${Object.keys(shapes).length} shapes`);
}

main();
