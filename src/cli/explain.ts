import { parseArgs } from 'node:util';
import { GlueCaller } from './glue-caller.js';

export const EXPLAIN_USAGE = `  doppel explain --transform-id ID KEY1 KEY2 [KEY3 KEY4 ...] [--json] [--endpoint URL] [--region R]
`;

export const EXPLAIN_HELP = `explain asks the server (doppel's ExplainMatches operation) why the transform's model scores each
pair of records (given by primary key, two at a time) as it does: the log-odds of a match as a bias
plus each column's contribution, largest first (a waterfall). --json prints the answer as it came.
`;

interface Explanation {
  Left: string;
  Right: string;
  LogOdds: number;
  Probability: number;
  Bias: number;
  Columns: Array<{ ColumnName: string; Contribution: number }>;
}

const signed = (x: number) => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(4)}`;

/** One pair's waterfall as text: the bias, each column largest first, the sum. */
export function waterfall(e: Explanation): string {
  const columns = [...e.Columns].sort((a, b) => Math.abs(b.Contribution) - Math.abs(a.Contribution));
  const width = Math.max(4, ...columns.map((c) => c.ColumnName.length));
  const scale = Math.max(1e-9, ...columns.map((c) => Math.abs(c.Contribution)));
  const lines = [`${e.Left} ~ ${e.Right}: probability ${e.Probability.toFixed(4)}, log-odds ${signed(e.LogOdds)}`];
  lines.push(`  ${'bias'.padEnd(width)}  ${signed(e.Bias)}`);
  for (const c of columns) {
    const bar = (c.Contribution >= 0 ? '+' : '-').repeat(Math.round((20 * Math.abs(c.Contribution)) / scale));
    lines.push(`  ${c.ColumnName.padEnd(width)}  ${signed(c.Contribution)}  ${bar}`);
  }
  lines.push(`  ${'='.padEnd(width)}  ${signed(e.LogOdds)}`);
  return lines.join('\n');
}

/** `doppel explain ...`: returns the process exit code. */
export async function explainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'transform-id': { type: 'string' },
      json: { type: 'boolean' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`Usage:\n${EXPLAIN_USAGE}\n${EXPLAIN_HELP}`);
    return 0;
  }
  const pairs = [];
  for (let i = 0; i + 1 < positionals.length; i += 2) pairs.push({ Left: positionals[i]!, Right: positionals[i + 1]! });
  const selfPair = pairs.findIndex((p) => p.Left === p.Right);
  const problem = !values['transform-id']
    ? '--transform-id is required'
    : positionals.length === 0
      ? 'pairs of primary keys are required'
      : positionals.length % 2 !== 0
        ? `the primary keys must come in pairs, got an odd number (${positionals.length})`
        : selfPair >= 0
          ? `pair ${selfPair + 1} (${pairs[selfPair]!.Left} ${pairs[selfPair]!.Right}) names the same record twice: a record is not explained against itself, give two different primary keys`
          : undefined;
  if (problem) {
    process.stderr.write(`${problem}\n\nUsage:\n${EXPLAIN_USAGE}\n${EXPLAIN_HELP}`);
    return 2;
  }
  const glue = GlueCaller.fromEnvironment(values.endpoint, values.region);
  const answer = await glue.call('ExplainMatches', { TransformId: values['transform-id'], RecordPairs: pairs });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${(answer['Explanations'] as Explanation[]).map(waterfall).join('\n\n')}\n`);
  return 0;
}
