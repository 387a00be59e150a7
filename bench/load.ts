/**
 * `npm run bench:load [-- --nodes 2 --seconds 60 --clients 32]`
 *
 * Read load on several API nodes sharing one store: `--nodes` doppel servers are started (the first
 * one with task workers, the others `--no-worker`), all on the metadata store of DOPPEL_DATABASE_URL
 * when it is set (with its run queue, DOPPEL_REDIS_URL; each node then has its own data dir) or else
 * on one shared data dir. A setup
 * phase creates `--transforms` ML transforms with tags, a database and `--tables` tables through the
 * first node. Then `--clients` concurrent clients, each bound to one node in turn, call Get and List
 * operations (GetMLTransform, GetMLTransforms, ListMLTransforms, GetMLTaskRuns, GetTags, GetTable,
 * GetTables, GetDatabase, GetDatabases) picked at random, back to back, for `--seconds`. Every call
 * is timed, errors included.
 *
 * Writes bench/results/load-<nodes>nodes.json and regenerates BENCHMARKS.md.
 *
 * Options:
 *   --nodes N          API nodes (default 2)
 *   --seconds S        length of the measured phase (default 60)
 *   --clients C        concurrent clients (default 32)
 *   --transforms K     transforms created before (default 50)
 *   --tables T         tables created before (default 50)
 *   --seed S           the random choice of operations (default 1)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateDatabaseCommand,
  CreateMLTransformCommand,
  CreateTableCommand,
  GetDatabaseCommand,
  GetDatabasesCommand,
  GetMLTaskRunsCommand,
  GetMLTransformCommand,
  GetMLTransformsCommand,
  GetTableCommand,
  GetTablesCommand,
  GetTagsCommand,
  ListMLTransformsCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { describeError, glueClient } from './lib/aws.js';
import { renderBenchmarksFrom } from './lib/report.js';
import { gitCommit, loadAverage, machine } from './lib/results.js';
import type { LoadResult, LoadOperation } from './lib/load-results.js';
import { makeRng } from '../src/engine/rng.js';
import { ACCOUNT_ID, REGION, startServer, type BenchServer } from './lib/server.js';
import { percentile } from './lib/stats.js';

const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '60' },
    clients: { type: 'string', default: '32' },
    transforms: { type: 'string', default: '50' },
    tables: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
  },
});
const positive = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${text}'`);
  return n;
};
const nodes = positive('nodes', opts.nodes!);
const seconds = positive('seconds', opts.seconds!);
const clients = positive('clients', opts.clients!);
const transformCount = positive('transforms', opts.transforms!);
const tableCount = positive('tables', opts.tables!);
const seed = positive('seed', opts.seed!);

const root = fileURLToPath(new URL('../..', import.meta.url));
const resultsDir = join(root, 'bench', 'results');
const DATABASE = 'load_bench';

async function startNodes(): Promise<{ servers: BenchServer[]; store: string }> {
  const databaseUrl = process.env['DOPPEL_DATABASE_URL'];
  const first = await startServer();
  const servers = [first];
  try {
    for (let i = 1; i < nodes; i++) {
      servers.push(databaseUrl ? await startServer({}, undefined, ['--no-worker']) : await startServer({}, first.dataDir, ['--no-worker']));
    }
  } catch (e) {
    for (const s of servers.reverse()) await s.stop(s !== first);
    await first.stop();
    throw e;
  }
  return { servers, store: databaseUrl ? 'PostgreSQL' : 'SQLite (one data dir)' };
}

async function setUp(glue: GlueClient): Promise<{ transformIds: string[]; tables: string[] }> {
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: DATABASE } }));
  const tables: string[] = [];
  for (let i = 0; i < tableCount; i++) {
    const name = `people_${i}`;
    await glue.send(
      new CreateTableCommand({
        DatabaseName: DATABASE,
        TableInput: {
          Name: name,
          StorageDescriptor: {
            Columns: [
              { Name: 'id', Type: 'string' },
              { Name: 'name', Type: 'string' },
              { Name: 'city', Type: 'string' },
            ],
            Location: `s3://load-bench/${name}/`,
            SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde' },
          },
        },
      }),
    );
    tables.push(name);
  }
  const transformIds: string[] = [];
  for (let i = 0; i < transformCount; i++) {
    const out = await glue.send(
      new CreateMLTransformCommand({
        Name: `load-${i}`,
        Role: 'arn:aws:iam::123456789012:role/doppel',
        InputRecordTables: [{ DatabaseName: DATABASE, TableName: tables[i % tables.length]! }],
        Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
        Tags: { team: `t${i % 5}` },
      }),
    );
    transformIds.push(out.TransformId!);
  }
  return { transformIds, tables };
}

type Call = (glue: GlueClient, pick: (n: number) => number) => Promise<unknown>;

function operations(transformIds: string[], tables: string[]): Record<LoadOperation, Call> {
  const arn = (id: string) => `arn:aws:glue:${REGION}:${ACCOUNT_ID}:mlTransform/${id}`;
  return {
    GetMLTransform: (g, pick) => g.send(new GetMLTransformCommand({ TransformId: transformIds[pick(transformIds.length)]! })),
    GetMLTransforms: (g) => g.send(new GetMLTransformsCommand({ MaxResults: 20 })),
    ListMLTransforms: (g) => g.send(new ListMLTransformsCommand({ MaxResults: 50 })),
    GetMLTaskRuns: (g, pick) => g.send(new GetMLTaskRunsCommand({ TransformId: transformIds[pick(transformIds.length)]! })),
    GetTags: (g, pick) => g.send(new GetTagsCommand({ ResourceArn: arn(transformIds[pick(transformIds.length)]!) })),
    GetTable: (g, pick) => g.send(new GetTableCommand({ DatabaseName: DATABASE, Name: tables[pick(tables.length)]! })),
    GetTables: (g) => g.send(new GetTablesCommand({ DatabaseName: DATABASE, MaxResults: 20 })),
    GetDatabase: (g) => g.send(new GetDatabaseCommand({ Name: DATABASE })),
    GetDatabases: (g) => g.send(new GetDatabasesCommand({})),
  };
}

async function main(): Promise<void> {
  const { servers, store } = await startNodes();
  try {
    const glues = servers.map((s) => glueClient(s.endpoint));
    const { transformIds, tables } = await setUp(glues[0]!);
    const ops = operations(transformIds, tables);
    const names = Object.keys(ops) as LoadOperation[];
    const durations: number[][] = names.map(() => []);
    const errors: string[] = [];
    const perNode = new Array<number>(servers.length).fill(0);
    const rng = makeRng(seed);
    const pick = (n: number) => Math.floor(rng() * n);
    const cpuBefore = process.cpuUsage();
    const load0 = loadAverage();
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const node = c % servers.length;
        const glue = glues[node]!;
        while (performance.now() < end) {
          const op = pick(names.length);
          const t = performance.now();
          try {
            await ops[names[op]!](glue, pick);
          } catch (e) {
            errors.push(`${names[op]} on node ${node + 1}: ${describeError(e)}`);
          }
          durations[op]!.push(performance.now() - t);
          perNode[node]! += 1;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const all = durations.flat();
    const ms = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
    const result: LoadResult = {
      nodes: servers.length,
      store,
      clients,
      seconds: Math.round(elapsed * 10) / 10,
      transforms: transformCount,
      tables: tableCount,
      calls: all.length,
      errors: errors.length,
      errorSamples: errors.slice(0, 5),
      callsPerSecond: Math.round(all.length / elapsed),
      p50Ms: ms(percentile(all, 50)),
      p99Ms: ms(percentile(all, 99)),
      maxMs: ms(percentile(all, 100)),
      callsPerNode: perNode,
      operations: names.map((name, i) => ({
        name,
        calls: durations[i]!.length,
        p50Ms: ms(percentile(durations[i]!, 50)),
        p99Ms: ms(percentile(durations[i]!, 99)),
      })),
      clientCpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
      loadAverageBefore: load0,
      machine: machine(),
      commit: gitCommit(root),
    };
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `load-${servers.length}nodes.json`), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(root, 'BENCHMARKS.md'), renderBenchmarksFrom(resultsDir));
    console.log(
      `${result.calls} calls in ${result.seconds} s on ${result.nodes} nodes (${store}): ${result.callsPerSecond}/s, ` +
        `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.errors} errors`,
    );
    for (const e of result.errorSamples) console.log(`  error: ${e}`);
    if (result.errors > 0) process.exitCode = 1;
  } finally {
    await sleep(100);
    const [first, ...rest] = servers;
    for (const s of rest) await s.stop(!process.env['DOPPEL_DATABASE_URL']);
    await first!.stop();
  }
}

await main();
