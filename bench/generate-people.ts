/**
 * Writes a seeded synthetic person dataset (records.csv, truth.csv, meta.json) in the shared
 * dataset layout, for the scorer and the engine drivers.
 *
 *   node dist/bench/generate-people.js --records 1000000 --seed 1 --out /tmp/people-1m
 *
 * The same --records and --seed always give the same bytes. A relative --out is a folder of the
 * directory the command was typed in, `npm run gen:people` included (see outDirOf).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_RECORDS, writePeopleDataset } from './lib/synthetic-people.js';

const USAGE = 'usage: node dist/bench/generate-people.js --records N --out DIR [--seed S]\n';

function integerOption(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * --out as an absolute path. `npm run gen:people` starts this script in the package root, not where
 * the user typed the command; npm names that directory INIT_CWD, and a relative --out is resolved
 * against it then. Only for npm's run of this very script: a generator started by another npm
 * script (as a child of `npm test`, say) inherits an INIT_CWD that is not its caller's directory.
 */
function outDirOf(out: string, env: NodeJS.ProcessEnv): string {
  const typedIn = env['npm_lifecycle_event'] === 'gen:people' ? env['INIT_CWD'] : undefined;
  return resolve(typedIn ?? process.cwd(), out);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help || values.records === undefined || values.out === undefined) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const records = integerOption('records', values.records, 1, MAX_RECORDS);
  const seed = integerOption('seed', values.seed, 0, 2 ** 32 - 1);
  const outDir = outDirOf(values.out, process.env);
  const started = performance.now();
  const meta = await writePeopleDataset({ records, seed, outDir });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${meta.name} in ${outDir}: ${meta.records} records, ${meta.entities} entities, ` +
      `${meta.true_pairs} true pairs (${seconds.toFixed(1)}s)\n`,
  );
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`generate-people: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
