/** Entry of the engine's worker threads: runs the jobs parallel.ts sends, one at a time. */
import { parentPort } from 'node:worker_threads';
import type { KeyIndex } from './blocking.js';
import { JobRunner, type Job, type PrepareJob } from './parallel.js';
import { prepareColumn } from './profile.js';

const runner = new JobRunner();
/** The table and key index this thread holds; a job names them by id when they are unchanged. */
let table: Job['table'] | undefined;
let index: { id: number; index: KeyIndex } | undefined;

/** A job as sent: the table and key index may be reduced to their ids (parallel.ts #send). */
type SentJob = Job & { table: Job['table'] | { id: number }; index?: { id: number; index?: KeyIndex } };

parentPort!.on('message', (message: SentJob | PrepareJob) => {
  try {
    if (message.kind === 'prepare') {
      parentPort!.postMessage({ result: prepareColumn(message.column) });
      return;
    }
    const sentTable = message.table as { id: number; table?: Job['table']['table'] };
    if (sentTable.table) table = { id: sentTable.id, table: sentTable.table };
    else if (table?.id !== sentTable.id) throw new Error('engine thread: table not sent');
    const job = { ...message, table: table! } as Job;
    if (job.kind === 'neighbours') {
      const sent = message.index!;
      if (sent.index) index = { id: sent.id, index: sent.index };
      else if (index?.id !== sent.id) throw new Error('engine thread: key index not sent');
      job.index = index!;
    }
    parentPort!.postMessage({ result: runner.run(job) });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    parentPort!.postMessage({ error: err.message, stack: err.stack });
  }
});
