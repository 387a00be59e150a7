/**
 * SigV4 timestamps: ISO-8601 "basic format" in UTC, e.g. `20250101T120000Z` (X-Amz-Date), whose first
 * eight characters are the credential-scope date.
 */

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses an X-Amz-Date value; undefined unless it is well formed and names a real instant. */
export function parseAmzDate(value: string): Date | undefined {
  const match = AMZ_DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 20250230 over into March; a timestamp that does not round-trip is not a real one.
  return formatAmzDate(date) === value ? date : undefined;
}

/** Formats an instant as X-Amz-Date (milliseconds are dropped, as signers do). */
export function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}
