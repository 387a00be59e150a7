/**
 * The README's walkthrough, run as written: every `sh` block of its "Walkthrough" section with bash
 * (the AWS CLI part), and its `python` block with python3 (the boto3 part), against a fresh server.
 * Three things differ from a reader's shell, all substituted here: the server's address (the test
 * server listens on a free port, not 4587); `npm run gen:people`, which compiles the project before
 * running the generator, runs with a script shell that leaves the build out (so npm still starts the
 * generator the way a reader's npm does, in the package root with INIT_CWD naming the scratch
 * folder); and `npx doppel` by the compiled command it runs (the package's bin), since the first
 * `npx doppel` of a checkout installs the checkout into npm's npx cache, which runs its `prepare`
 * script. Both builds would rewrite dist/ under the suites running beside this one.
 *
 * The commands run in a scratch folder inside the checkout, as the README asks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { findAws, findPythonWithBoto3, isolatedAwsEnv, runCommand, s3Client, type CommandOutput } from '../support/s3-tools.js';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const README_ENDPOINT = 'http://127.0.0.1:4587';
const BUILD = 'npm run build';
const GENERATOR = 'node dist/bench/generate-people.js';
/** What `npx doppel` runs: the package's bin (checked below). */
const BIN = 'dist/src/cli/main.js';

interface CodeBlock {
  /** The `###` heading the block is under ('' before the first). */
  part: string;
  language: string;
  code: string;
}

/** The fenced code blocks of one `##` section of the README, in order. */
function sectionBlocks(readme: string, heading: string): CodeBlock[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const lines = readme.slice(start, end < 0 ? undefined : end).split('\n');
  const blocks: CodeBlock[] = [];
  let part = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('### ')) part = line.slice(4).trim();
    const fence = /^```(\w+)$/.exec(line);
    if (!fence) continue;
    const close = lines.indexOf('```', i + 1);
    assert.ok(close > i, `the code block at README line ${i} is closed`);
    blocks.push({ part, language: fence[1]!, code: lines.slice(i + 1, close).join('\n') });
    i = close;
  }
  return blocks;
}

/**
 * Writes, in `dir`, a shell for `npm run --script-shell` that runs the gen:people script (`BUILD &&
 * GENERATOR ...`, checked below) without its build.
 */
function writeShellWithoutBuild(dir: string): string {
  const path = join(dir, 'sh-without-build');
  writeFileSync(path, `#!/bin/sh\n[ "$1" = -c ] || exit 2\nexec /bin/sh -c "\${2#${BUILD} && }"\n`, { mode: 0o755 });
  return path;
}

/** A README command block with the two npm commands that would build the project made not to. */
const asWritten = (code: string, shellWithoutBuild: string) =>
  code
    .replaceAll('npm run gen:people', `npm run --script-shell=${shellWithoutBuild} gen:people`)
    .replaceAll('npx doppel', `node ${join(REPO, BIN)}`);

describe('README walkthrough', () => {
  const aws = findAws();
  const python = findPythonWithBoto3();
  let server: TestServer;
  let s3: S3Client;
  let scratch: string;
  let blocks: CodeBlock[];

  const asRun = (code: string) =>
    asWritten(code, writeShellWithoutBuild(scratch)).replaceAll(README_ENDPOINT, server.endpoint);
  const env = () => {
    const awsDir = aws?.includes('/') ? dirname(aws) : undefined;
    return isolatedAwsEnv(join(scratch, 'aws-config'), join(scratch, 'aws-credentials'), {
      ...(awsDir ? { PATH: `${awsDir}:${process.env['PATH']}` } : {}),
    });
  };
  const check = (what: string, r: CommandOutput) =>
    assert.equal(r.code, 0, `${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  const text = async (bucket: string, key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
  const keys = async (bucket: string, prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();

  before(async () => {
    blocks = sectionBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'), 'Walkthrough: from records to matches');
    const scripts = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts as Record<string, string>;
    assert.equal(scripts['gen:people'], `${BUILD} && ${GENERATOR}`, `npm run gen:people builds, then runs ${GENERATOR}`);
    const bin = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).bin as Record<string, string>;
    assert.equal(bin['doppel'], BIN, `npx doppel runs ${BIN}`);
    server = await startServer();
    s3 = s3Client(server);
    mkdirSync(join(REPO, '.scratch'), { recursive: true });
    scratch = mkdtempSync(join(REPO, '.scratch', 'walkthrough-'));
  });
  after(async () => {
    await stopAndRemove(server);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('has the records step, the AWS CLI part and the boto3 part (text blocks show output)', () => {
    assert.deepEqual(
      blocks.filter((b) => b.language !== 'text').map((b) => `${b.part || '(intro)'}: ${b.language}`),
      ['(intro): sh', 'With the AWS CLI: sh', 'With the AWS CLI: sh', 'With the AWS CLI: sh', 'With boto3: python'],
    );
  });

  it('the AWS CLI part runs as written, through the labeling set, labels, evaluation and a job run', { timeout: 600_000 }, async (t) => {
    if (!aws) return t.skip('aws CLI not installed: apt-get install awscli');
    const script = ['set -euo pipefail', ...blocks.filter((b) => b.language === 'sh').map((b) => asRun(b.code))].join('\n');
    writeFileSync(join(scratch, 'cli.sh'), script);
    const r = await runCommand('bash', [join(scratch, 'cli.sh')], { cwd: scratch, env: env() });
    check('the README CLI walkthrough', r);

    // What the commands left behind, checked independently of them.
    assert.deepEqual(await keys('walkthrough', 'labeling/round-1/'), ['labeling/round-1/_SUCCESS', 'labeling/round-1/part-00000.csv']);
    const labeling = parse(readFileSync(join(scratch, 'labeling-round-1.csv'))) as string[][];
    assert.deepEqual(labeling[0]!.slice(0, 3), ['labeling_set_id', 'label', 'id']);
    assert.ok(labeling.slice(1).every((row) => row[1] !== ''), 'every label is pre-filled');
    assert.match(r.stdout, /\{\s*"Status": "READY",\s*"LabelCount": \d+\s*\}/);
    assert.match(r.stdout, /"F1": 0?\.\d+|"F1": 1(\.0)?/);
    const matches = parse(await text('walkthrough', 'matches/part-00000.csv'), { columns: true }) as Array<Record<string, string>>;
    assert.equal(matches.length, 2000);
    assert.ok(matches.every((m) => /^\d+$/.test(m['match_id']!)));
    assert.ok(new Set(matches.map((m) => m['match_id'])).size < 2000, 'some records were matched');
    assert.match(r.stdout, /^id,given_name,surname,.*,email,match_id$/m, 'head shows the output header');
    // npx doppel find-matches wrote JSON lines with confidence scores.
    assert.deepEqual(await keys('walkthrough', 'matches-json/'), ['matches-json/_SUCCESS', 'matches-json/_doppel/incremental-state.bin', 'matches-json/part-00000.json']);
    const json = (await text('walkthrough', 'matches-json/part-00000.json'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(typeof json[0]!['match_id'], 'number');
    assert.equal(typeof json[0]!['match_confidence_score'], 'number');
    // One rule for empty values: the blanks of the data are empty CSV fields and JSON nulls, never "".
    const columns = Object.keys(matches[0]!).filter((c) => c !== 'match_id');
    let blanks = 0;
    for (const [i, row] of matches.entries()) {
      for (const c of columns) {
        if (row[c] === '') blanks++;
        assert.equal(json[i]![c], row[c] === '' ? null : row[c], `row ${row['id']} column ${c}`);
      }
    }
    assert.ok(blanks > 50, `the data has blanks (${blanks})`);
  });

  it('the boto3 part runs as written, with its wait loop', { timeout: 600_000 }, async (t) => {
    if (!python) return t.skip('boto3 not installed: apt-get install python3-boto3');
    const records = blocks.find((b) => b.part === '' && b.language === 'sh')!;
    check('the records step', await runCommand('bash', ['-euo', 'pipefail', '-c', asRun(records.code)], { cwd: scratch, env: env() }));
    const program = blocks.find((b) => b.language === 'python')!;
    writeFileSync(join(scratch, 'walkthrough.py'), asRun(program.code));
    const r = await runCommand(python, [join(scratch, 'walkthrough.py')], { cwd: scratch, env: env() });
    check('the README boto3 walkthrough', r);
    assert.match(r.stdout, /^\d+ rows to review in \d+ labeling sets$/m);
    assert.match(r.stdout, /^READY \d+ labeled rows$/m);
    assert.match(r.stdout, /^\{'Precision': [\d.]+, 'Recall': [\d.]+, 'F1': [\d.]+\}$/m);
    const summary = /^2000 records in (\d+) groups, (\d+) with duplicates$/m.exec(r.stdout);
    assert.ok(summary, r.stdout);
    assert.ok(Number(summary[2]) > 0);
    assert.deepEqual(await keys('walkthrough-py', 'matches/'), ['matches/_SUCCESS', 'matches/_doppel/incremental-state.bin', 'matches/part-00000.json']);
  });
});

describe('README crawlers: the FindMatches tutorial with a crawler', () => {
  const aws = findAws();
  let server: TestServer;
  let s3: S3Client;
  let scratch: string;

  before(async () => {
    server = await startServer();
    s3 = s3Client(server);
    mkdirSync(join(REPO, '.scratch'), { recursive: true });
    scratch = mkdtempSync(join(REPO, '.scratch', 'crawlers-'));
  });
  after(async () => {
    await stopAndRemove(server);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('runs as written: crawl, a transform over the crawled table, labels, find-matches', { timeout: 600_000 }, async (t) => {
    if (!aws) return t.skip('aws CLI not installed: apt-get install awscli');
    const blocks = sectionBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'), 'Crawlers').filter((b) => b.language === 'sh');
    assert.equal(blocks.length, 1, 'one sh block: the tutorial');
    const code = asWritten(blocks[0]!.code, writeShellWithoutBuild(scratch)).replaceAll(README_ENDPOINT, server.endpoint);
    writeFileSync(join(scratch, 'crawl.sh'), `set -euo pipefail\n${code}\n`);
    const awsDir = aws.includes('/') ? dirname(aws) : undefined;
    const env = isolatedAwsEnv(join(scratch, 'aws-config'), join(scratch, 'aws-credentials'), {
      ...(awsDir ? { PATH: `${awsDir}:${process.env['PATH']}` } : {}),
    });
    const r = await runCommand('bash', [join(scratch, 'crawl.sh')], { cwd: scratch, env });
    assert.equal(r.code, 0, `the README crawler tutorial exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    assert.match(r.stdout, /^SUCCEEDED$/m, 'the crawl succeeded');
    const table = JSON.parse(/\{\s*"Columns"[\s\S]*?\n\}/.exec(r.stdout)![0]) as { Columns: string[]; Header: string; SerDe: string };
    assert.deepEqual(table.Columns, ['id', 'given_name', 'surname', 'date_of_birth', 'street_address', 'city', 'postcode', 'phone', 'email']);
    assert.equal(table.Header, '1');
    const matches = (await s3.send(new GetObjectCommand({ Bucket: 'tutorial', Key: 'matches/part-00000.csv' }))).Body!;
    const rows = parse(await matches.transformToString(), { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, 1000);
    assert.ok(rows.every((row) => /^\d+$/.test(row['match_id']!)));
  });
});
