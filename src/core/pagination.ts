import { createHash } from 'node:crypto';
import { invalidInput } from './errors.js';

export type SortKey = [string | number, string];

export interface PageRequest {
  nextToken?: string;
  maxResults?: number;
  defaultPageSize: number;
  /** Anything that changes the result set or its order (filter, sort); a token is bound to it. */
  fingerprint: unknown;
}

interface Token {
  f: string;
  k: SortKey;
}

const compareKeys = (a: SortKey, b: SortKey): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/**
 * Keyset pagination over an already filtered list: the token carries the sort key of the last
 * item returned, so deleting or adding items between calls never repeats or skips survivors.
 */
export function paginate<T>(
  items: T[],
  keyOf: (item: T) => SortKey,
  descending: boolean,
  req: PageRequest,
): { page: T[]; nextToken?: string } {
  const fingerprint = createHash('sha256').update(JSON.stringify(req.fingerprint)).digest('hex').slice(0, 16);
  const dir = descending ? -1 : 1;
  const sorted = items
    .map((item) => ({ item, key: keyOf(item) }))
    .sort((a, b) => dir * compareKeys(a.key, b.key));
  let start = 0;
  if (req.nextToken !== undefined && req.nextToken !== '') {
    const token = decodeToken(req.nextToken);
    if (token.f !== fingerprint) {
      throw invalidInput('The NextToken does not belong to this request: its filter or sort differs.');
    }
    start = sorted.findIndex((x) => dir * compareKeys(x.key, token.k) > 0);
    if (start < 0) start = sorted.length;
  }
  const size = req.maxResults ?? req.defaultPageSize;
  const slice = sorted.slice(start, start + size);
  const more = start + size < sorted.length;
  const last = slice[slice.length - 1];
  return {
    page: slice.map((x) => x.item),
    nextToken:
      more && last
        ? Buffer.from(JSON.stringify({ f: fingerprint, k: last.key } satisfies Token)).toString('base64url')
        : undefined,
  };
}

function decodeToken(raw: string): Token {
  try {
    const t = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Token;
    if (typeof t.f === 'string' && Array.isArray(t.k) && t.k.length === 2) return t;
  } catch {
    // fall through
  }
  throw invalidInput('Invalid NextToken.');
}
