#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { configFrom, isLoopbackHost } from '../config.js';
import { DEFAULT_ACCOUNT_ID, startDoppel, startWorker } from '../server.js';
import { EXPLAIN_HELP, EXPLAIN_USAGE, explainCommand } from './explain.js';
import { FIND_MATCHES_HELP, FIND_MATCHES_USAGE, findMatchesCommand } from './find-matches.js';
import { createLog, type Log } from '../core/log.js';
import { redactedUrl } from '../core/redacted-url.js';
import { optionsHelp, SERVE_OPTIONS, STORE_OPTIONS, storeFlags, WORKER_OPTIONS } from './node-options.js';

const SERVE_USAGE = `  doppel serve [--port P] [--host H] [--data-dir D] [--database-url URL --redis-url URL]
               [--no-auth [--allow-unauthenticated-network]] [--no-worker]
`;

const WORKER_USAGE = `  doppel worker [--data-dir D] [--database-url URL --redis-url URL] [--port P [--host H]]
`;

const CREDENTIALS_HELP = `Credentials: access key "test", secret "test" (account ${DEFAULT_ACCOUNT_ID}) unless
DOPPEL_CREDENTIALS=AKID:SECRET:ACCOUNT[,...] or DOPPEL_CREDENTIALS_FILE=path.json says otherwise.
`;

const USAGE = `doppel — self-hosted AWS Glue FindMatches

Usage:
${SERVE_USAGE}${WORKER_USAGE}${FIND_MATCHES_USAGE}${EXPLAIN_USAGE}  doppel help
  doppel COMMAND --help

options of serve and worker (environment variables in brackets):
${optionsHelp(STORE_OPTIONS)}
serve options:
${optionsHelp(SERVE_OPTIONS)}
worker options: executes task runs queued by doppel serve nodes on the same store
${optionsHelp(WORKER_OPTIONS)}
${CREDENTIALS_HELP}
${FIND_MATCHES_HELP}
${EXPLAIN_HELP}`;

const SERVE_HELP = `Usage:
${SERVE_USAGE}
options (environment variables in brackets):
${optionsHelp(STORE_OPTIONS)}${optionsHelp(SERVE_OPTIONS)}
${CREDENTIALS_HELP}`;

const WORKER_HELP = `Usage:
${WORKER_USAGE}
executes task runs queued by doppel serve nodes on the same store.

options (environment variables in brackets):
${optionsHelp(STORE_OPTIONS)}${optionsHelp(WORKER_OPTIONS)}`;

/** --help and -h, which every command takes. */
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...SERVE_OPTIONS, ...STORE_OPTIONS, ...HELP_OPTION }, strict: true });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const config = configFrom(
    {
      port: values.port,
      host: values.host,
      ...storeFlags(values),
      noAuth: values['no-auth'],
      allowUnauthenticatedNetwork: values['allow-unauthenticated-network'],
      noWorker: values['no-worker'],
    },
    process.env,
  );
  const log = createLog(config.logFormat);
  const server = await startDoppel(config, process.env, log);
  console.log(`doppel listening on ${server.url}`);
  console.log(`  data dir:    ${config.dataDir}`);
  console.log(`  node:        ${server.nodeId}${config.runsTasks ? '' : ' (--no-worker: doppel worker processes run the tasks)'}`);
  if (config.databaseUrl !== undefined) console.log(`  metadata:    PostgreSQL ${redactedUrl(config.databaseUrl)}`);
  if (config.runQueue !== undefined) console.log(`  run queue:   Redis ${redactedUrl(config.runQueue.url)} (prefix ${config.runQueue.prefix})`);
  if (config.noAuth) {
    console.log(
      isLoopbackHost(config.host)
        ? '  auth:        DISABLED (--no-auth): unsigned requests are accepted'
        : `  auth:        DISABLED (--no-auth) on ${config.host}, a network address (--allow-unauthenticated-network): anyone who reaches it has full access`,
    );
  } else {
    const custom = process.env['DOPPEL_CREDENTIALS'] || process.env['DOPPEL_CREDENTIALS_FILE'];
    console.log(
      custom
        ? '  credentials: from DOPPEL_CREDENTIALS / DOPPEL_CREDENTIALS_FILE'
        : `  credentials: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test (account ${DEFAULT_ACCOUNT_ID}), any region`,
    );
  }
  console.log(`  try:         aws glue get-ml-transforms --endpoint-url ${server.url} --region us-east-1`);
  console.log(`  s3:          aws s3 ls --endpoint-url ${server.url}`);

  shutDownOnSignals(server, log);
}

/** SIGTERM and SIGINT close the node cleanly: its running task runs go back to the queue. */
function shutDownOnSignals(node: { close(): Promise<void> }, log: Log): void {
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log(`${signal} received, shutting down`);
    node.close().then(
      () => process.exit(0),
      (e) => {
        log(`shutdown failed: ${(e as Error).message}`, { level: 'error' });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function workerCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, ...WORKER_OPTIONS, ...HELP_OPTION }, strict: true });
  if (values.help) {
    process.stdout.write(WORKER_HELP);
    return;
  }
  // DOPPEL_PORT is serve's: a worker beside it on the same machine answers health checks only where told.
  const config = configFrom({ port: values.port ?? '0', host: values.host, ...storeFlags(values) }, process.env);
  const log = createLog(config.logFormat);
  const worker = await startWorker(config, process.env, log, values.port === undefined ? undefined : config.port);
  console.log(`doppel worker ${worker.nodeId} executing task runs with ${config.workerConcurrency} task process(es)`);
  console.log(`  data dir:    ${config.dataDir}`);
  if (config.databaseUrl !== undefined) console.log(`  metadata:    PostgreSQL ${redactedUrl(config.databaseUrl)}`);
  if (config.runQueue !== undefined) console.log(`  run queue:   Redis ${redactedUrl(config.runQueue.url)} (prefix ${config.runQueue.prefix})`);
  if (worker.url) console.log(`  health:      ${worker.url}/health, ${worker.url}/ready, ${worker.url}/metrics`);
  shutDownOnSignals(worker, log);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'worker':
      return workerCommand(rest);
    case 'find-matches':
      process.exitCode = await findMatchesCommand(rest);
      return;
    case 'explain':
      process.exitCode = await explainCommand(rest);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`doppel: ${(e as Error).message ?? e}`);
  process.exit(1);
});
