import { writeOutput } from '../../storage/data-objects.js';
import { ObjectStoreError, type ObjectStore } from '../../storage/object-store.js';
import { parseS3Uri, S3UriError, type S3Location } from '../../storage/s3-uri.js';
import { TaskFailure } from '../task-handler.js';

/** An S3 URI a task was given, or a TaskFailure that starts with `what` (which input was bad). */
export function s3LocationOf(uri: string, what: string): S3Location {
  try {
    return parseS3Uri(uri);
  } catch (e) {
    if (e instanceof S3UriError) throw new TaskFailure(`${what} ${e.message}`);
    throw e;
  }
}

/** Runs a write to `uri`; an object-store error becomes a TaskFailure naming the destination. */
export async function writingTo<T>(uri: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (e instanceof ObjectStoreError) throw new TaskFailure(`Cannot write to ${uri}. ${e.message}`);
    throw e;
  }
}

/** Writes `body` as the one CSV part under `at` (then `_SUCCESS`), the output of small tasks. */
export function writeCsvOutput(
  objects: ObjectStore,
  uri: string,
  at: S3Location,
  body: string | AsyncIterable<Uint8Array>,
): Promise<string[]> {
  const bytes = typeof body === 'string' ? (async function* () { yield Buffer.from(body, 'utf8'); })() : body;
  return writingTo(uri, () => writeOutput(objects, at, [{ name: 'part-00000.csv', body: bytes, contentType: 'text/csv' }]));
}
