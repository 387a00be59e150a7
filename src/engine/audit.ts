/**
 * Audit sets: labeling sets drawn at random, so that the evaluation can measure the output on pairs
 * that neither active learning nor blocking chose.
 *
 * Actively chosen pairs are the hard ones (two films of one title, two branches of one restaurant),
 * so a calibration fitted on them alone says the output is worse than it is; and every labeled
 * pair found through blocking's own neighbour lists is a candidate, so the share of labeled matches
 * among the candidates says nothing about the matches blocking misses. An audit set is a uniformly
 * random row and the rows the model, compared with every row of the table (or a uniform sample of
 * them), finds at least somewhat likely to match it: its labeled pairs are a random sample of the
 * pairs the model can tell apart from noise, whether blocking proposes them or not.
 *
 * Only the pairs of the drawn rows are a random sample: the partners' pairs among themselves are
 * pairs of look-alikes picked for resembling the same row, the hard cases (two branches of one
 * chain), so counting them would read the output as worse than it is.
 *
 * Audit sets are recognised by their labeling set id, which also names the drawn rows (a hash of
 * each key, so the set survives a labeler reordering its rows); labels of sets named otherwise are never
 * taken for audits, so renamed sets only make the estimate fall back to the calibration.
 */
import { hashString, makeRng } from './rng.js';
import { sharedUint32 } from './shared.js';

export const AUDIT_SET_PREFIX = 'audit-';

export const isAuditSet = (labelingSetId: string): boolean => labelingSetId.startsWith(AUDIT_SET_PREFIX);

const keyTag = (key: string) => hashString(key).toString(16).padStart(8, '0');

/** The id of the `number`th audit set, whose rows drawn at random have primary keys `drawnKeys`. */
export function auditSetId(number: number, drawnKeys: readonly string[]): string {
  return `${AUDIT_SET_PREFIX}${String(number).padStart(4, '0')}${drawnKeys.map((k) => `-${keyTag(k)}`).join('')}`;
}

/**
 * Whether a key is a drawn row of the audit set `labelingSetId` (undefined when the id names
 * none); the audit's pairs are those rows' pairs (labels.ts).
 */
export function auditDrawnRow(labelingSetId: string): ((key: string) => boolean) | undefined {
  if (!/^audit-\d+(-[0-9a-f]{8})+$/.test(labelingSetId)) return undefined;
  const tags = new Set(labelingSetId.split('-').slice(2));
  return (key) => tags.has(keyTag(key));
}

/** Share of a round's labeling sets that are audit sets. */
const AUDIT_SHARE = 0.2;
/** Rows of an audit set at most: its random row and up to this many less one partners. */
export const AUDIT_SET_ROWS = 6;
/** Rows a random row is compared with at most; beyond this a uniform sample of the table. */
export const AUDIT_SCAN_ROWS = 200_000;
/**
 * Random rows scanned per audit set wanted: many rows have no partner worth showing, and a set
 * takes several drawn rows when their partners are few (auditSets).
 */
const SCANS_PER_SET = 8;
/**
 * How far below the decision threshold (in log-odds) a partner may score and still be shown: the
 * audit sample covers the pairs above this floor, where nearly every match the model could find
 * lies; below it the calibration alone speaks.
 */
const FLOOR_LOG_ODDS = 4;

export function auditSetCount(sets: number): number {
  return sets < 2 ? 0 : Math.max(1, Math.round(sets * AUDIT_SHARE));
}

/** The lowest model probability of a pair the audit sample covers, for a decision threshold. */
export function auditFloor(threshold: number): number {
  const t = Math.min(1 - 1e-9, Math.max(1e-9, threshold));
  return 1 / (1 + Math.exp(FLOOR_LOG_ODDS - Math.log(t / (1 - t))));
}

/**
 * The pairs to score for `sets` audit sets: distinct random rows, each against every row of the
 * table or a uniform sample of AUDIT_SCAN_ROWS of them. `rows[k]` is compared with
 * b[k·width .. (k+1)·width).
 */
export function auditScan(n: number, sets: number, seed: number): { rows: Uint32Array; width: number; a: Uint32Array; b: Uint32Array } {
  const rng = makeRng(seed ^ 0xa0d17);
  const count = Math.min(n, sets * SCANS_PER_SET);
  const rows = new Uint32Array(count);
  const chosen = new Set<number>();
  for (let k = 0; k < count; ) {
    const r = Math.floor(rng() * n);
    if (chosen.has(r)) continue;
    chosen.add(r);
    rows[k++] = r;
  }
  const width = Math.min(Math.max(0, n - 1), AUDIT_SCAN_ROWS);
  // Shared: the worker threads score them in place.
  const a = sharedUint32(count * width), b = sharedUint32(count * width);
  for (let k = 0; k < count; k++) {
    const r = rows[k]!;
    // Every row but r, or an evenly spaced sample from a random offset (uniform over the rows).
    const step = (n - 1) / width, offset = rng() * step;
    for (let j = 0; j < width; j++) {
      let s = width === n - 1 ? j : Math.floor(offset + j * step);
      if (s >= r) s++;
      a[k * width + j] = r;
      b[k * width + j] = s;
    }
  }
  return { rows, width, a, b };
}

/** An audit set: its rows, and those of them drawn at random (each followed by its partners). */
export interface AuditSet {
  rows: number[];
  drawn: number[];
}

/**
 * Audit sets from a scan's scores: per scanned row in order, the row and its most likely partners
 * at or above the floor (AUDIT_SET_ROWS − 1 at most: a row's match, if the model can find it at
 * all, is nearly always among them); rows without such a partner are skipped. A set takes the
 * next drawn row with its partners while they fit in AUDIT_SET_ROWS: where a row has one or two
 * likely partners (a record and its one counterpart in another source), a set holds two or three
 * drawn rows, and the estimate gets two or three times the audit pairs for the same labeling.
 */
export function auditSets(
  scan: { rows: Uint32Array; width: number; b: Uint32Array },
  p: Float32Array,
  floor: number,
  sets: number,
): AuditSet[] {
  const out: AuditSet[] = [];
  const taken = new Set<number>();
  let open: AuditSet | undefined;
  for (let k = 0; k < scan.rows.length; k++) {
    const r = scan.rows[k]!;
    if (taken.has(r)) continue;
    // Scan positions of the partners at or above the floor, most likely first (ties: scan order).
    const at: number[] = [];
    for (let j = k * scan.width; j < (k + 1) * scan.width; j++) if (p[j]! >= floor && !taken.has(scan.b[j]!)) at.push(j);
    if (at.length === 0) continue;
    at.sort((x, y) => p[y]! - p[x]! || x - y);
    const group = [r, ...at.slice(0, AUDIT_SET_ROWS - 1).map((j) => scan.b[j]!)];
    if (!open || open.rows.length + group.length > AUDIT_SET_ROWS) {
      if (out.length === sets) break;
      open = { rows: [], drawn: [] };
      out.push(open);
    }
    open.rows.push(...group);
    open.drawn.push(r);
    for (const x of group) taken.add(x);
  }
  return out;
}
