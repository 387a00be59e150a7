/**
 * The server's log: one line per event on standard error, as text for people (`[doppel] ...`) or,
 * with DOPPEL_LOG_FORMAT=json, one JSON object per line for log collectors, with the ids a line is
 * about as fields of their own (a task run's lines can be found by its id without parsing text).
 */

/** What a line is about, beside its message. */
export interface LogFields {
  level?: 'info' | 'warn' | 'error';
  taskRunId?: string;
  taskType?: string;
  transformId?: string;
  /** The crawler a crawl's lines are about (its runs are CRAWL task runs). */
  crawlerName?: string;
  /** The x-amzn-RequestId / x-amz-request-id of the request a line is about. */
  requestId?: string;
  /** The task process a line is about (or comes from). */
  pid?: number;
}

export type Log = (message: string, fields?: LogFields) => void;

export type LogFormat = 'text' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** A log writing whole lines to `write` (standard error by default). */
export function createLog(format: LogFormat, write: (line: string) => void = (line) => process.stderr.write(line)): Log {
  if (format === 'text') return (message) => write(`[doppel] ${message}\n`);
  return (message, fields = {}) => {
    const { level = 'info', ...ids } = fields;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...ids })}\n`);
  };
}
