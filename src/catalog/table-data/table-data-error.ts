/**
 * A catalog table's declaration or its data cannot be read as declared.
 *
 * The message is meant for the person who owns the table (it ends up in a task run's ErrorString),
 * so it names the table or file, the line or row and the column wherever they are known; `where`
 * carries the same facts for callers and tests.
 */
export class TableDataError extends Error {
  override readonly name = 'TableDataError';

  constructor(
    message: string,
    readonly where: DataErrorLocation = {},
  ) {
    super(message);
  }
}

export interface DataErrorLocation {
  /** `database.table` when the problem is in the table definition. */
  table?: string;
  /** The part file (its S3 URI when the caller gave one). */
  uri?: string;
  /** 1-based line of the file: CSV structural problems, malformed JSON. */
  line?: number;
  /** 1-based data row of the file (header lines not counted). */
  row?: number;
  column?: string;
}
