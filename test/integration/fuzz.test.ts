/**
 * Fuzz-style bad-input test: well over 1,000 malformed, correctly SigV4-signed requests (wrong
 * JSON types, missing members, oversized strings, bad enums and patterns, out-of-range numbers,
 * invalid JSON, non-object bodies, unknown targets, deep nesting, huge bodies) must each get
 * HTTP 400 with the right `__type`, never a 5xx, a missing `__type` or a crash.
 *
 * The malformed requests are derived from the Glue model (GLUE_SHAPES): a model-valid body is
 * generated for an operation, then exactly one kind of damage is applied, which fixes the error
 * AWS answers with. Everything is driven by a seeded PRNG, so a run is reproducible; set
 * DOPPEL_FUZZ_SEED to explore other seeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { MapShape, Shape, StringShape } from '../../src/core/glue-model/shape.js';
import { inputShapeName, knownOperations, modeledErrors, shapeNamed } from '../../src/core/glue-model/operations.js';
import { startServer, stopAndRemove, TEST_CREDENTIALS, TEST_REGION, type TestServer } from '../support/server.js';

const SEED = Number(process.env.DOPPEL_FUZZ_SEED ?? 0x5eed_f022);
const MIN_MALFORMED_REQUESTS = 1_000;
const CONCURRENCY = 8;
const MiB = 1024 * 1024;

/** The operations the spec (§2.2, §3, §4.1 and test/support/README.md) says the server serves. */
const SPEC_OPERATIONS = [
  'CreateMLTransform', 'GetMLTransform', 'GetMLTransforms', 'ListMLTransforms', 'UpdateMLTransform',
  'DeleteMLTransform', 'StartMLLabelingSetGenerationTaskRun', 'StartImportLabelsTaskRun',
  'StartExportLabelsTaskRun', 'StartMLEvaluationTaskRun', 'GetMLTaskRun', 'GetMLTaskRuns',
  'CancelMLTaskRun', 'TagResource', 'UntagResource', 'GetTags', 'CreateDatabase', 'GetDatabase',
  'GetDatabases', 'DeleteDatabase', 'CreateTable', 'GetTable', 'GetTables', 'UpdateTable', 'DeleteTable',
];

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32: tiny, fast, good enough to shuffle test inputs. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
}

// ---------------------------------------------------------------------------------------------
// Model-valid values

const SINGLE_LINE = '[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*';
const MULTI_LINE = '[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*';

/**
 * Hand-picked values known to match / not match each model pattern of the served operations.
 * Written by hand on purpose: expectations must not come from the server's own regex translation.
 * A pattern missing here is only used when its member is optional (it is then left out).
 */
const PATTERN_SAMPLES: Record<string, { valid: string[]; invalid: string[] }> = {
  [SINGLE_LINE]: {
    valid: ['fuzz-name', 'Zoë 😀 ok', 'tab\tseparated', 'tfm-0123456789abcdef0123456789abcdef01234567'],
    invalid: ['line1\nline2', 'carriage\rreturn', 'nul\u0000', 'lone surrogate \uD800'],
  },
  [MULTI_LINE]: {
    valid: ['', 'line 1\r\nline 2', 's3://fuzz-bucket/prefix/', 'plain text 😀'],
    invalid: ['nul\u0000', 'bell\u0007', 'escape\u001b[0m'],
  },
  '^(\\w+\\.)+\\w+$': { valid: ['2.0', '1.0', '0.9', '3.0'], invalid: ['2', '.2', 'two', '2.0.', ''] },
  'arn:aws(-(cn|us-gov|iso(-[bef])?))?:glue:.*': {
    valid: ['arn:aws:glue:us-east-1:123456789012:mlTransform/tfm-0000000000000000000000000000000000000000'],
    invalid: ['not-an-arn', 'arn:aws:s3:::bucket', 'ARN:AWS:GLUE:x'],
  },
  '[a-zA-Z0-9-_$#.]+': { valid: ['registry-1', 'a.b$c#d'], invalid: ['has space', 'slash/x', 'ü'] },
  '[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}': {
    valid: ['0123abcd-0123-4567-89ab-0123456789ab'],
    invalid: ['0123ABCD-0123-4567-89AB-0123456789AB', 'zzzzzzzz-0123-4567-89ab-0123456789ab'],
  },
  '[\\p{L}\\p{N}\\p{P}]*': { valid: ['txn-1', 'Zoë42'], invalid: ['has space', 'tab\t'] },
  '^[A-Za-z0-9]+$': { valid: ['k1', 'Param2'], invalid: ['has space', 'a-b', ''] },
};
/** Key patterns that `k<digits>` always satisfies (used to invent distinct map keys). */
const KEY_SAFE_PATTERNS = new Set([SINGLE_LINE, MULTI_LINE, '^[A-Za-z0-9]+$', '[A-Za-z0-9_-]*', '([^\\r\\n])*', '[a-zA-Z0-9-_$#.]+', '[\\p{L}\\p{N}\\p{P}]*']);
const PLAIN_SAMPLES = ['x', 'fuzz-value', 'Ünïcødé ✓', 's3://fuzz-bucket/path/file.csv', 'arn:aws:iam::123456789012:role/fuzz', ''];
const TIMESTAMP_SAMPLES = [1700000000, 1700000000.25, '1700000000', '2024-01-02T03:04:05Z'];

function charLength(text: string): number {
  return [...text].length;
}

function validString(shape: StringShape, rng: Random): string | undefined {
  if (shape.enum) return rng.pick(shape.enum);
  const min = shape.min ?? 0;
  const max = shape.max ?? Number.POSITIVE_INFINITY;
  const candidates = shape.pattern === undefined ? PLAIN_SAMPLES : PATTERN_SAMPLES[shape.pattern]?.valid;
  if (!candidates) return undefined;
  const fitting = candidates.filter((s) => charLength(s) >= min && charLength(s) <= max);
  if (fitting.length > 0) return rng.pick(fitting);
  const padded = 'a'.repeat(Math.max(min, 1));
  return (shape.pattern === undefined || KEY_SAFE_PATTERNS.has(shape.pattern)) && charLength(padded) <= max ? padded : undefined;
}

/** Distinct keys valid for a map's key shape, or undefined if we cannot invent them. */
function mapKeys(keyShape: StringShape, count: number, rng: Random): string[] | undefined {
  if (keyShape.enum) return keyShape.enum.slice(0, count);
  if (keyShape.pattern !== undefined && !KEY_SAFE_PATTERNS.has(keyShape.pattern)) return undefined;
  const offset = rng.int(0, 1000);
  const keys = Array.from({ length: count }, (_, i) => `k${offset + i}`);
  return keys.every((k) => k.length >= (keyShape.min ?? 0) && k.length <= (keyShape.max ?? Infinity)) ? keys : undefined;
}

/** Optional members are added with this probability, down to this depth, to vary the bodies. */
const OPTIONAL_MEMBER_CHANCE = 0.45;
const OPTIONAL_MEMBER_DEPTH = 3;

/** A model-valid value for a shape (undefined when none can be made, e.g. unknown pattern). */
function validValue(shapeName: string, rng: Random, depth = 0): unknown {
  if (depth > 12) return undefined;
  const shape = shapeNamed(shapeName);
  switch (shape.type) {
    case 'structure': {
      if (shape.document) return rng.pick([{}, { type: 'string' }, 'text', 5, [1, 'a', null], true]);
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members)) {
        const required = shape.required?.includes(name) ?? false;
        if (!required && !(depth < OPTIONAL_MEMBER_DEPTH && rng.chance(OPTIONAL_MEMBER_CHANCE))) continue;
        const value = validValue(member.shape, rng, depth + 1);
        if (value === undefined) {
          if (required) return undefined;
          continue;
        }
        out[name] = value;
      }
      return out;
    }
    case 'list': {
      const min = shape.min ?? 0;
      const count = rng.int(min, Math.min(shape.max ?? Infinity, min + 2));
      const items: unknown[] = [];
      for (let i = 0; i < count; i++) {
        const item = validValue(shape.member.shape, rng, depth + 1);
        if (item === undefined) return min > 0 ? undefined : [];
        items.push(item);
      }
      return items;
    }
    case 'map': {
      const min = shape.min ?? 0;
      const count = rng.int(min, Math.min(shape.max ?? Infinity, min + 2));
      const keys = mapKeys(shapeNamed(shape.key.shape) as StringShape, count, rng);
      if (!keys || keys.length < min) return undefined;
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const value = validValue(shape.value.shape, rng, depth + 1);
        if (value === undefined) return min > 0 ? undefined : {};
        out[key] = value;
      }
      return out;
    }
    case 'string':
      return validString(shape, rng);
    case 'integer':
    case 'long': {
      const lo = shape.min ?? 0;
      return rng.int(lo, shape.max ?? lo + 50);
    }
    case 'float':
    case 'double': {
      const lo = shape.min ?? 0;
      const hi = shape.max ?? lo + 10;
      return Math.min(hi, Math.max(lo, Math.round((lo + rng.next() * (hi - lo)) * 1000) / 1000));
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'timestamp':
      return rng.pick(TIMESTAMP_SAMPLES);
    case 'blob':
      return 'ZnV6eg==';
  }
}

// ---------------------------------------------------------------------------------------------
// Places in a body where damage can be done

type Path = (string | number)[];
interface Site {
  path: Path;
  shape: Shape;
}

function collectSites(shapeName: string, value: unknown, path: Path, out: Site[]): Site[] {
  const shape = shapeNamed(shapeName);
  out.push({ path, shape });
  if (value === null || typeof value !== 'object') return out;
  if (shape.type === 'structure' && !shape.document) {
    const object = value as Record<string, unknown>;
    for (const [name, member] of Object.entries(shape.members)) {
      if (Object.hasOwn(object, name) && object[name] != null) collectSites(member.shape, object[name], [...path, name], out);
    }
  } else if (shape.type === 'list') {
    (value as unknown[]).forEach((item, i) => collectSites(shape.member.shape, item, [...path, i], out));
  } else if (shape.type === 'map') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      collectSites(shape.value.shape, item, [...path, key], out);
    }
  }
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

/** Returns the new root (a path of [] replaces the whole body). */
function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  Object.defineProperty(parent, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return root;
}

function deleteAt(root: unknown, path: Path): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  delete parent[path[path.length - 1]!];
}

// ---------------------------------------------------------------------------------------------
// Damage: each kind yields a body and the error AWS answers with

type Expectation =
  /** HTTP 400 with one of these `__type`s. */
  | { kind: 'error'; types: string[] }
  /** A model-valid request: 200, or 400 with a modeled error / Validation / Serialization. */
  | { kind: 'accepted' };

const SERIALIZATION: Expectation = { kind: 'error', types: ['SerializationException'] };
const VALIDATION: Expectation = { kind: 'error', types: ['ValidationException'] };
const UNKNOWN_OPERATION: Expectation = { kind: 'error', types: ['UnknownOperationException'] };
const ACCEPTED: Expectation = { kind: 'accepted' };

interface Damage {
  body: unknown;
  expect: Expectation;
}
type DamageKind = (base: unknown, sites: Site[], rng: Random) => Damage | undefined;

const isStructure = (s: Site) => s.shape.type === 'structure' && !s.shape.document;

function wrongTypedValues(shape: Shape): unknown[] {
  switch (shape.type) {
    case 'structure':
      return [[], 'text', 42, true, [{}]];
    case 'list':
      return ['text', 42, {}, true, { 0: 'a' }];
    case 'map':
      return [[], 'text', 42, true, [['k', 'v']]];
    case 'string':
      return [42, -1.5, true, false, {}, [], ['text'], { S: 'text' }];
    case 'integer':
    case 'long':
      return ['5', '', true, 1.5, -0.25, {}, [], [5], 2 ** 64];
    case 'float':
    case 'double':
      return ['0.5', '', true, {}, [], [0.5]];
    case 'boolean':
      return ['true', 'false', 1, 0, {}, [], [true]];
    case 'timestamp':
      return [true, {}, [], 'yesterday', '', '2024-13-45T99:99:99Z', [1700000000]];
    case 'blob':
      return [42, true, {}, []];
  }
}

function pickSite(sites: Site[], rng: Random, accept: (s: Site) => boolean): Site | undefined {
  const candidates = sites.filter(accept);
  return candidates.length > 0 ? rng.pick(candidates) : undefined;
}

const wrongType: DamageKind = (base, sites, rng) => {
  const site = pickSite(sites, rng, (s) => s.path.length > 0 && !(s.shape.type === 'structure' && s.shape.document));
  if (!site) return undefined;
  return { body: setAt(base, site.path, rng.pick(wrongTypedValues(site.shape))), expect: SERIALIZATION };
};

const missingRequired: DamageKind = (base, sites, rng) => {
  const site = pickSite(sites, rng, (s) => isStructure(s) && (s.shape as { required?: string[] }).required !== undefined);
  if (!site || site.shape.type !== 'structure') return undefined;
  const member = rng.pick(site.shape.required!);
  if (rng.chance(0.3)) setAt(base, [...site.path, member], null);
  else if (Object.hasOwn(getAt(base, site.path) as object, member)) deleteAt(base, [...site.path, member]);
  return { body: base, expect: VALIDATION };
};

const tooLong: DamageKind = (base, sites, rng) => {
  const site = pickSite(sites, rng, (s) => 'max' in s.shape && s.shape.max !== undefined && s.shape.type !== 'integer' && s.shape.type !== 'long' && s.shape.type !== 'double' && s.shape.type !== 'float');
  if (!site) return undefined;
  const max = (site.shape as { max: number }).max;
  const extra = rng.int(1, 3);
  if (site.shape.type === 'string') {
    const unit = rng.pick(['a', 'é', '😀']);
    return { body: setAt(base, site.path, unit.repeat(max + extra)), expect: VALIDATION };
  }
  if (site.shape.type === 'list') {
    const items = getAt(base, site.path) as unknown[];
    const memberShape = site.shape.member.shape;
    while (items.length < max + extra) {
      const item = items.length > 0 ? structuredClone(rng.pick(items)) : validValue(memberShape, rng, 4);
      if (item === undefined) return undefined;
      items.push(item);
    }
    return { body: base, expect: VALIDATION };
  }
  if (site.shape.type === 'map') {
    const map = getAt(base, site.path) as Record<string, unknown>;
    const keys = mapKeys(shapeNamed(site.shape.key.shape) as StringShape, max + extra, rng);
    if (!keys) return undefined;
    for (const key of keys) map[key] = map[key] ?? validValue(site.shape.value.shape, rng, 4);
    if (Object.keys(map).length <= max) return undefined;
    return { body: base, expect: VALIDATION };
  }
  return undefined;
};

const tooShort: DamageKind = (base, sites, rng) => {
  const site = pickSite(sites, rng, (s) => 'min' in s.shape && (s.shape.min ?? 0) >= 1 && ['string', 'list', 'map'].includes(s.shape.type));
  if (!site) return undefined;
  const empty = site.shape.type === 'string' ? '' : site.shape.type === 'list' ? [] : {};
  return { body: setAt(base, site.path, empty), expect: VALIDATION };
};

const badEnum: DamageKind = (base, sites, rng) => {
  const site = pickSite(sites, rng, (s) => s.shape.type === 'string' && s.shape.enum !== undefined);
  if (!site || site.shape.type !== 'string') return undefined;
  const allowed = site.shape.enum!;
  const current = getAt(base, site.path) as string;
  const options = [current.toLowerCase(), `${current} `, ` ${current}`, `${current}_X`, 'BOGUS', '', 'null'];
  const bad = options.filter((o) => !allowed.includes(o));
  return { body: setAt(base, site.path, rng.pick(bad)), expect: VALIDATION };
};

const badPattern: DamageKind = (base, sites, rng) => {
  const site = pickSite(sites, rng, (s) => s.shape.type === 'string' && s.shape.pattern !== undefined && PATTERN_SAMPLES[s.shape.pattern] !== undefined);
  if (!site || site.shape.type !== 'string') return undefined;
  return { body: setAt(base, site.path, rng.pick(PATTERN_SAMPLES[site.shape.pattern!]!.invalid)), expect: VALIDATION };
};

const outOfRange: DamageKind = (base, sites, rng) => {
  const site = pickSite(sites, rng, (s) => ['integer', 'long', 'double', 'float'].includes(s.shape.type) && ('min' in s.shape || 'max' in s.shape) && ((s.shape as { min?: number }).min !== undefined || (s.shape as { max?: number }).max !== undefined));
  if (!site) return undefined;
  const { min, max } = site.shape as { min?: number; max?: number };
  const integral = site.shape.type === 'integer' || site.shape.type === 'long';
  const step = integral ? rng.int(1, 1000) : rng.pick([0.001, 0.5, 1, 100]);
  const useMax = max !== undefined && (min === undefined || rng.chance(0.5));
  return { body: setAt(base, site.path, useMax ? max! + step : min! - step), expect: VALIDATION };
};

const badMapKey: DamageKind = (base, sites, rng) => {
  const site = pickSite(sites, rng, (s) => {
    if (s.shape.type !== 'map') return false;
    const key = shapeNamed(s.shape.key.shape) as StringShape;
    return key.max !== undefined || (key.min ?? 0) >= 1;
  });
  if (!site || site.shape.type !== 'map') return undefined;
  const keyShape = shapeNamed(site.shape.key.shape) as StringShape;
  const map = getAt(base, site.path) as Record<string, unknown>;
  const key = keyShape.max !== undefined && (rng.chance(0.5) || (keyShape.min ?? 0) < 1) ? 'k'.repeat(keyShape.max + 1) : '';
  const value = validValue((site.shape as MapShape).value.shape, rng, 4);
  if (value === undefined) return undefined;
  map[key] = value;
  return { body: base, expect: VALIDATION };
};

const CONSTRAINT_DAMAGE: DamageKind[] = [missingRequired, tooLong, tooShort, badEnum, badPattern, outOfRange, badMapKey];

/** A constraint violation plus a wrong type elsewhere: deserialization fails first. */
const typeBeatsConstraint: DamageKind = (base, sites, rng) => {
  const first = rng.pick(CONSTRAINT_DAMAGE)(base, sites, rng);
  if (!first) return undefined;
  const shapeName = rootShapeOf(sites);
  if (!shapeName) return undefined;
  return wrongType(first.body, collectSites(shapeName, first.body, [], []), rng);
};

/** Members the model does not know (including prototype-ish names) must be ignored. */
function addUnknownMembers(body: unknown, sites: Site[], rng: Random): void {
  const structures = sites.filter(isStructure);
  for (let i = 0; i < rng.int(1, 3); i++) {
    const target = getAt(body, rng.pick(structures).path);
    if (target === null || typeof target !== 'object' || Array.isArray(target)) continue;
    const [name, value] = rng.pick<[string, unknown]>([
      ['__proto__', { TransformId: 'polluted', Name: 'polluted', isAdmin: true }],
      ['constructor', { prototype: { polluted: true } }],
      ['toString', 'not a function'],
      ['hasOwnProperty', 42],
      ['FutureMember', { Nested: [1, 2, { Deeper: 'x' }] }],
      ['transformId', 'lower-case twin of a real member'],
      ['', ''],
    ]);
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  }
}

const unknownMembersWithViolation: DamageKind = (base, sites, rng) => {
  const damage = rng.pick(CONSTRAINT_DAMAGE)(base, sites, rng);
  if (!damage) return undefined;
  addUnknownMembers(damage.body, collectSites(rootShapeOf(sites)!, damage.body, [], []), rng);
  return damage;
};

const unknownMembersOnly: DamageKind = (base, sites, rng) => {
  addUnknownMembers(base, sites, rng);
  return { body: base, expect: ACCEPTED };
};

const modelValid: DamageKind = (base) => ({ body: base, expect: ACCEPTED });

/**
 * Deeply nested arrays are kept as a marker until serialization: JSON.stringify itself recurses
 * and would overflow the test's own stack (a server that re-stringifies such bodies would, too).
 */
class DeepArray {
  constructor(readonly depth: number) {}
  toJSON(): string {
    return `\u0000deep:${this.depth}\u0000`;
  }
}

function deepArray(depth: number): unknown {
  return new DeepArray(depth);
}

/** JSON text of a body, expanding DeepArray markers into real nesting. */
function toJsonText(body: unknown): string {
  return JSON.stringify(body).replace(/"\\u0000deep:(\d+)\\u0000"/g, (_, n: string) => '['.repeat(Number(n)) + ']'.repeat(Number(n)));
}

/** Deep nesting where a structure/list/map belongs (a type error), or in an unknown member. */
const deepNesting: DamageKind = (base, sites, rng) => {
  const depth = rng.int(5_000, 20_000);
  const site = pickSite(sites, rng, (s) => s.path.length > 0 && (isStructure(s) || s.shape.type === 'map' || s.shape.type === 'string'));
  if (site && rng.chance(0.6)) return { body: setAt(base, site.path, deepArray(depth)), expect: SERIALIZATION };
  Object.defineProperty(base, 'DeepUnknown', { value: deepArray(depth), enumerable: true });
  return { body: base, expect: ACCEPTED };
};

/** The body shape name travels with the sites: the root site's shape is the input structure. */
const rootShapes = new WeakMap<Site[], string>();
function rootShapeOf(sites: Site[]): string | undefined {
  return rootShapes.get(sites);
}

const MODEL_DAMAGE: Record<string, DamageKind> = {
  'wrong-type': wrongType,
  'missing-required': missingRequired,
  'too-long': tooLong,
  'too-short': tooShort,
  'bad-enum': badEnum,
  'bad-pattern': badPattern,
  'out-of-range': outOfRange,
  'bad-map-key': badMapKey,
  'type-beats-constraint': typeBeatsConstraint,
  'unknown-members+violation': unknownMembersWithViolation,
  'unknown-members-only': unknownMembersOnly,
  'deep-nesting': deepNesting,
  'model-valid': modelValid,
};

// ---------------------------------------------------------------------------------------------
// Cases

interface FuzzCase {
  category: string;
  operation?: string;
  /** X-Amz-Target header; null sends none. */
  target: string | null;
  body: Uint8Array;
  expect: Expectation;
}

const encode = (text: string) => new TextEncoder().encode(text);

function modelCases(operations: string[], rng: Random, rounds: number): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const operation of operations) {
      const shapeName = inputShapeName(operation);
      if (!shapeName) continue;
      for (const [category, damage] of Object.entries(MODEL_DAMAGE)) {
        // A kind may not apply to a given body (e.g. no enum member present): retry a few bases.
        for (let attempt = 0; attempt < 6; attempt++) {
          const base = validValue(shapeName, rng);
          if (base === undefined) throw new Error(`cannot build a valid ${shapeName}: add its patterns to PATTERN_SAMPLES`);
          const sites = collectSites(shapeName, base, [], []);
          rootShapes.set(sites, shapeName);
          const result = damage(base, sites, rng);
          if (!result) continue;
          cases.push({ category, operation, target: `AWSGlue.${operation}`, body: encode(toJsonText(result.body)), expect: result.expect });
          break;
        }
      }
      // A body missing every required member (or an empty body, which clients send as {}).
      const required = (shapeNamed(shapeName) as { required?: string[] }).required ?? [];
      const emptyExpect = required.length > 0 ? VALIDATION : ACCEPTED;
      cases.push({ category: 'empty-object', operation, target: `AWSGlue.${operation}`, body: encode('{}'), expect: emptyExpect });
      cases.push({ category: 'empty-body', operation, target: `AWSGlue.${operation}`, body: new Uint8Array(), expect: emptyExpect });
    }
  }
  return cases;
}

const INVALID_JSON = [
  '{', '}', '{"TransformId": ', '{"TransformId": "x"', '{"TransformId": "x",}', "{'TransformId': 'x'}",
  '{TransformId: "x"}', 'nul', 'undefined', 'NaN', '{"a": NaN}', '{"a": Infinity}', '{"a": 01}', '{"a": .5}',
  '{"a": "\\x41"}', '{"a": "unterminated}', '[1,2', '{"a":1}{"b":2}', '{"a":1} trailing', '\u0000',
  '{"a": "raw\u0001control"}', '{"a": "\\uZZZZ"}', '{"a" "b"}', '{"a":}', '{,}', '{"a":1,,"b":2}', '<xml/>',
  'TransformId=x&Name=y', '{"a": tru}', '{"a": -}', '{"a": 1e}', '{"a": [1,]}', '\t\n{\n',
];
const NON_OBJECT_JSON = ['[]', '[{}]', '[{"TransformId":"x"}]', '"GetMLTransforms"', '42', '-1.5', 'true', 'false', 'null', '""', '0'];

function protocolCases(served: string[], unserved: string[], rng: Random): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const anyTarget = () => `AWSGlue.${rng.pick(served)}`;
  for (const text of INVALID_JSON) {
    for (let i = 0; i < 3; i++) cases.push({ category: 'invalid-json', target: anyTarget(), body: encode(text), expect: SERIALIZATION });
  }
  // Valid bodies cut short are never valid JSON (an object text's proper prefix is incomplete).
  for (let i = 0; i < 60; i++) {
    const operation = rng.pick(served);
    const full = JSON.stringify(validValue(inputShapeName(operation)!, rng));
    if (full.length < 2) continue;
    const cut = full.slice(0, rng.int(1, full.length - 1));
    cases.push({ category: 'truncated-json', operation, target: `AWSGlue.${operation}`, body: encode(cut), expect: SERIALIZATION });
  }
  // Random printable garbage that JSON.parse rejects.
  for (let i = 0; i < 40; i++) {
    const text = Array.from({ length: rng.int(1, 200) }, () => String.fromCharCode(rng.int(32, 126))).join('');
    if (isJson(text)) continue;
    cases.push({ category: 'garbage', target: anyTarget(), body: encode(text), expect: SERIALIZATION });
  }
  // Bytes that are not UTF-8 at all, around or instead of JSON structure.
  for (let i = 0; i < 20; i++) {
    const bytes = Uint8Array.from([0x7b, ...Array.from({ length: rng.int(1, 64) }, () => rng.int(0x80, 0xff))]);
    cases.push({ category: 'invalid-utf8', target: anyTarget(), body: bytes, expect: SERIALIZATION });
  }
  for (const text of NON_OBJECT_JSON) {
    for (let i = 0; i < 3; i++) cases.push({ category: 'non-object', target: anyTarget(), body: encode(text), expect: SERIALIZATION });
  }
  for (let i = 0; i < 10; i++) {
    cases.push({ category: 'non-object', target: anyTarget(), body: encode(toJsonText(deepArray(rng.int(10_000, 50_000)))), expect: SERIALIZATION });
  }
  const unknownTargets = [
    'AWSGlue.DoesNotExist', 'AWSGlue.', 'AWSGlue', 'Glue.GetMLTransforms', 'AWSGlue.GetMLTransforms.Extra',
    'GetMLTransforms', 'AWSGlue.__proto__', 'AWSGlue.constructor', 'AWSGlue.toString', 'AWSGlue.hasOwnProperty',
    'AWSGlue.valueOf', 'AWSGlue.__defineGetter__', 'AWSGlue.CreateTrigger', 'AWSGlue.StartTrigger',
    'AWSGlue.GetMLTransforms/../GetMLTransform', 'AWSKMS.Decrypt', 'DynamoDB_20120810.ListTables', '.',
    ...unserved.map((op) => `AWSGlue.${op}`),
  ];
  for (const target of unknownTargets) {
    cases.push({ category: 'unknown-target', target, body: encode('{}'), expect: UNKNOWN_OPERATION });
    cases.push({ category: 'unknown-target', target, body: encode('{"TransformId":"tfm-1","Name":"x"}'), expect: UNKNOWN_OPERATION });
  }
  for (let i = 0; i < 5; i++) cases.push({ category: 'missing-target', target: null, body: encode('{}'), expect: UNKNOWN_OPERATION });
  return cases;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Wire

const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 'glue', sha256: Sha256 });

interface Outcome {
  status: number;
  type?: string;
  message?: string;
  raw: string;
  error?: string;
}

/** The error code as both SDKs read it: after '#', before ':'. */
function errorCode(type: unknown): string | undefined {
  if (typeof type !== 'string') return undefined;
  return type.split(':')[0]!.split('#').pop();
}

async function signedHeaders(server: TestServer, target: string | null, body: Uint8Array): Promise<Record<string, string>> {
  const url = new URL(server.endpoint);
  const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', host: url.host };
  if (target !== null) headers['x-amz-target'] = target;
  const request = new HttpRequest({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', headers, body });
  return (await signer.sign(request)).headers;
}

/** The parts of a response the checks look at. */
function toOutcome(status: number, raw: string): Outcome {
  let parsed: Record<string, unknown> | undefined;
  try {
    const json: unknown = JSON.parse(raw);
    if (json && typeof json === 'object' && !Array.isArray(json)) parsed = json as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const type = errorCode(parsed?.__type);
  const message = parsed?.Message ?? parsed?.message;
  return { status, raw, ...(type ? { type } : {}), ...(typeof message === 'string' ? { message } : {}) };
}

/** One request through fetch's keep-alive pool, as SDK clients send them. */
async function send(server: TestServer, target: string | null, body: Uint8Array): Promise<Outcome> {
  const headers = await signedHeaders(server, target, body);
  try {
    const response = await fetch(new URL('/', server.endpoint), { method: 'POST', headers, body });
    return toOutcome(response.status, await response.text());
  } catch (err) {
    return { status: 0, raw: '', error: String((err as Error)?.cause ?? err) };
  }
}

/** One request on a fresh connection of its own (Content-Length or chunked framing). */
async function sendOnNewConnection(server: TestServer, target: string | null, body: Uint8Array, chunked = false): Promise<Outcome> {
  const connection = await RawConnection.open(server);
  try {
    void connection.writeRequest(await signedHeaders(server, target, body), body, chunked);
    const response = await connection.readResponse(30_000);
    if (!response) return { status: 0, raw: '', error: `connection closed without a response (${connection.error ?? 'no socket error'})` };
    return toOutcome(response.status, response.body);
  } finally {
    connection.destroy();
  }
}

/**
 * One HTTP/1.1 connection driven by hand. fetch's pool hides which socket a request travels on;
 * the keep-alive check below is about the very connection that carried an oversized body.
 */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private closed = false;
  error: string | undefined;
  private wake: () => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', (err) => {
      this.error = String(err);
    });
  }

  static open(server: TestServer): Promise<RawConnection> {
    const url = new URL(server.endpoint);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /**
   * Sends a request (head, then body). With `pace` the body trickles out like over a slow link,
   * the way real clients upload big bodies; the promise settles when the body is sent or the
   * connection is gone.
   */
  async writeRequest(headers: Record<string, string>, body: Uint8Array, chunked: boolean, pace?: UploadPace): Promise<void> {
    const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${body.length}`;
    const head = ['POST / HTTP/1.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), framing, '', ''].join('\r\n');
    this.socket.write(head);
    const step = pace?.bytes ?? 256 * 1024;
    for (let offset = 0; offset < body.length; offset += step) {
      if (this.closed || this.socket.destroyed) return;
      const piece = body.subarray(offset, offset + step);
      if (chunked) this.socket.write(`${piece.length.toString(16)}\r\n`);
      this.socket.write(piece);
      if (chunked) this.socket.write('\r\n');
      if (pace) await sleep(pace.everyMs);
    }
    if (chunked && !this.socket.destroyed) this.socket.write('0\r\n\r\n');
  }

  /** The next complete response, or undefined if the connection closes (or times out) first. */
  async readResponse(timeoutMs: number): Promise<RawResponse | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = this.takeResponse();
      if (response) return response;
      if (this.closed || Date.now() > deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private takeResponse(): RawResponse | undefined {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return undefined;
    const [statusLine, ...lines] = this.buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(statusLine!.split(' ')[1]);
    let rest = this.buffer.subarray(headEnd + 4);
    let body: Buffer;
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const pieces: Buffer[] = [];
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd < 0) return undefined;
        const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
        if (rest.length < lineEnd + 2 + size + 2) return undefined;
        pieces.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        rest = rest.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
      body = Buffer.concat(pieces);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (rest.length < length) return undefined;
      body = rest.subarray(0, length);
      rest = rest.subarray(length);
    }
    this.buffer = Buffer.from(rest);
    return { status, headers, body: body.toString('utf8') };
  }
}

interface UploadPace {
  bytes: number;
  everyMs: number;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Error responses must stay small even for huge requests (no echoing the body back). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Why the outcome does not meet the expectation, or undefined if it does. */
function mismatch(c: FuzzCase, o: Outcome): string | undefined {
  if (o.error) return `request failed: ${o.error}`;
  if (o.status >= 500) return `HTTP ${o.status} (server fault)`;
  if (o.status !== 200 && !o.type) return `HTTP ${o.status} without a __type`;
  if (o.status !== 200 && o.raw.length > MAX_ERROR_BODY_BYTES) return `error body of ${o.raw.length} bytes`;
  if (c.expect.kind === 'error') {
    if (o.status !== 400) return `HTTP ${o.status}, expected 400 ${c.expect.types.join('|')}`;
    if (!c.expect.types.includes(o.type!)) return `__type ${o.type}, expected ${c.expect.types.join('|')}`;
    return undefined;
  }
  if (o.status === 200) return isJson(o.raw) ? undefined : 'HTTP 200 with a non-JSON body';
  const allowed = [...modeledErrors(c.operation ?? ''), 'ValidationException', 'SerializationException'];
  if (o.status !== 400) return `HTTP ${o.status}, expected 200 or 400`;
  // README "Behaviour where AWS is silent": a named security configuration is unknown (doppel has
  // none), which Glue answers EntityNotFoundException also where its model does not list it (CreateJob).
  if (o.type === 'EntityNotFoundException' && o.message?.startsWith('Security configuration ')) return undefined;
  return allowed.includes(o.type!) ? undefined : `__type ${o.type} is not modeled for ${c.operation}`;
}

function excerpt(bytes: Uint8Array | string, limit = 300): string {
  const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes.subarray(0, limit * 4));
  const shown = JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
  return typeof bytes === 'string' || bytes.length <= limit ? shown : `${shown} (${bytes.length} bytes)`;
}

function describeFailure(c: FuzzCase, o: Outcome, why: string): string {
  return `[${c.category}] target=${c.target ?? '(none)'} body=${excerpt(c.body)}\n    → ${why}; HTTP ${o.status} ${excerpt(o.raw)}`;
}

async function runCases(server: TestServer, cases: FuzzCase[]): Promise<{ failures: string[]; outcomes: Outcome[] }> {
  const outcomes: Outcome[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      outcomes[i] = await send(server, c.target, c.body);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const why = mismatch(c, outcomes[i]!);
    if (why) failures.push(describeFailure(c, outcomes[i]!, why));
  });
  return { failures, outcomes };
}

function report(failures: string[], total: number): string {
  const shown = failures.slice(0, 25).join('\n');
  return `${failures.length} of ${total} requests got a wrong answer:\n${shown}${failures.length > 25 ? `\n… and ${failures.length - 25} more` : ''}`;
}

// ---------------------------------------------------------------------------------------------

describe('fuzz: malformed requests get 400 with the right __type', () => {
  let server: TestServer;
  let served: string[] = [];
  const unserved: string[] = [];

  before(async () => {
    server = await startServer();
  });

  after(() => stopAndRemove(server));

  it('serves every operation of the spec (probe with {})', async () => {
    for (const operation of knownOperations()) {
      const outcome = await send(server, `AWSGlue.${operation}`, encode('{}'));
      assert.ok(outcome.status < 500, `probe of ${operation}: HTTP ${outcome.status} ${outcome.raw.slice(0, 300)}`);
      if (outcome.type === 'UnknownOperationException') unserved.push(operation);
      else served.push(operation);
    }
    const missing = SPEC_OPERATIONS.filter((op) => !served.includes(op));
    assert.deepEqual(missing, [], `operations answered with UnknownOperationException: ${missing.join(', ')}`);
  });

  it(`answers ≥ ${MIN_MALFORMED_REQUESTS} malformed requests with 400 and the right __type`, { timeout: 120_000 }, async (t) => {
    if (served.length === 0) served = SPEC_OPERATIONS.slice();
    const rng = new Random(SEED);
    const cases = [...modelCases(served, rng, 4), ...protocolCases(served, unserved, rng)];
    const malformed = cases.filter((c) => c.expect.kind === 'error').length;
    const byCategory = new Map<string, number>();
    for (const c of cases) byCategory.set(c.category, (byCategory.get(c.category) ?? 0) + 1);
    t.diagnostic(`seed ${SEED}: ${cases.length} requests (${malformed} malformed) over ${served.length} operations`);
    t.diagnostic([...byCategory].map(([k, n]) => `${k}=${n}`).join(' '));
    assert.ok(malformed >= MIN_MALFORMED_REQUESTS, `only ${malformed} malformed requests generated`);

    const started = Date.now();
    const { failures } = await runCases(server, cases);
    t.diagnostic(`sent in ${Date.now() - started} ms`);
    assert.equal(failures.length, 0, report(failures, cases.length));
  });

  it('rejects bodies over the 10 MiB limit with 400 SerializationException (not 413)', { timeout: 60_000 }, async () => {
    const validJson = encode(JSON.stringify({ TransformId: 'x'.repeat(11 * MiB) }));
    const garbage = new Uint8Array(11 * MiB).fill(0x7b); // "{{{{…": not JSON either
    const sends: { label: string; body: Uint8Array; chunked: boolean; expect: Expectation }[] = [
      { label: 'huge-body', body: validJson, chunked: false, expect: SERIALIZATION },
      { label: 'huge-body', body: garbage, chunked: false, expect: SERIALIZATION },
      { label: 'huge-body-chunked', body: validJson, chunked: true, expect: SERIALIZATION },
      // Just under the limit the body is parsed and validated like any other.
      { label: 'large-body', body: encode(JSON.stringify({ TransformId: 'y'.repeat(9 * MiB) })), chunked: false, expect: VALIDATION },
    ];
    const failures: string[] = [];
    for (const { label, body, chunked, expect } of sends) {
      const c: FuzzCase = { category: label, operation: 'GetMLTransform', target: 'AWSGlue.GetMLTransform', body, expect };
      const outcome = await sendOnNewConnection(server, c.target, c.body, chunked);
      const saysTooLarge = /too large|too big|exceed|limit|size/i.test(outcome.message ?? '');
      const why = mismatch(c, outcome) ??
        (expect === SERIALIZATION && !saysTooLarge ? `message does not say the body is too large: ${outcome.message}` : undefined);
      if (why) failures.push(describeFailure(c, outcome, why));
    }
    assert.equal(failures.length, 0, report(failures, sends.length));
  });

  it('keeps a connection it does not close usable after rejecting an oversized slow upload', { timeout: 60_000 }, async () => {
    // ~1 s per 11 MiB: slower than localhost, much faster than many real uplinks.
    const pace: UploadPace = { bytes: 512 * 1024, everyMs: 50 };
    const problems: string[] = [];
    const big = encode(JSON.stringify({ TransformId: 'x'.repeat(11 * MiB) }));
    const small = encode('{}');
    for (const chunked of [false, true]) {
      const label = chunked ? 'chunked 11 MiB body' : '11 MiB body with Content-Length';
      const connection = await RawConnection.open(server);
      try {
        const upload = connection.writeRequest(await signedHeaders(server, 'AWSGlue.GetMLTransform', big), big, chunked, pace);
        const first = await connection.readResponse(30_000);
        if (!first) {
          problems.push(`${label}: connection closed without a response (${connection.error ?? 'no socket error'})`);
          continue;
        }
        if (first.status !== 400 || !first.body.includes('SerializationException')) {
          problems.push(`${label}: HTTP ${first.status} ${first.body.slice(0, 200)}`);
        }
        // Announcing the close is fine; keeping the connection open promises to read the next request.
        if (first.headers.connection?.toLowerCase() === 'close') continue;
        await upload;
        await connection.writeRequest(await signedHeaders(server, 'AWSGlue.GetMLTransforms', small), small, false);
        const second = await connection.readResponse(30_000);
        if (!second) {
          problems.push(
            `${label}: answered HTTP ${first.status} with "Connection: ${first.headers.connection ?? '(absent)'}" (${first.body.slice(0, 120)}), ` +
              `then closed the connection without answering the next request on it (${connection.error ?? 'no socket error'})`,
          );
        } else if (second.status !== 200) {
          problems.push(`${label}: the next request on the same connection got HTTP ${second.status} ${second.body.slice(0, 200)}`);
        }
      } finally {
        connection.destroy();
      }
    }
    assert.deepEqual(problems, []);
  });

  it('is still alive afterwards and answers a valid GetMLTransforms', async () => {
    assert.equal(server.process.exitCode, null, `server exited:\n${server.output().slice(-2000)}`);
    assert.equal(server.process.signalCode, null, `server was killed:\n${server.output().slice(-2000)}`);
    // A fresh connection: whether pooled ones survived is the previous test's business.
    const outcome = await sendOnNewConnection(server, 'AWSGlue.GetMLTransforms', encode('{}'));
    assert.equal(outcome.status, 200, outcome.error ?? outcome.raw);
    const body = JSON.parse(outcome.raw) as { Transforms?: unknown };
    assert.ok(Array.isArray(body.Transforms), outcome.raw);
  });
});
