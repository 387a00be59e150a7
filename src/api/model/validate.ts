/**
 * Server-side request validation against the Glue model, as AWS's front end does it.
 *
 * Two kinds of failure, in this precedence:
 *  - a JSON value of the wrong type (or a body that is not an object) cannot be deserialized:
 *    SerializationException naming the member path, thrown at the first one found;
 *  - model constraints (required, length, pattern, enum, range): all violations are collected and
 *    reported in one ValidationException with AWS's Coral-style message.
 * Members the model does not know are ignored: newer clients may send members we lack.
 * `null` counts as "not set" (so a required member that is null is "Member must not be null").
 */
import { serializationError, unknownOperation, validationError } from '../errors.js';
import { inputShapeName, isKnownOperation, memberPathName, shapeNamed } from '../../core/glue-model/operations.js';
import { modelPattern } from '../../core/glue-model/pattern.js';
import type { MapShape, NumberShape, Shape, StringShape } from '../../core/glue-model/shape.js';
import { parseRequestTimestamp } from '../../core/timestamp.js';

export { inputShapeName, isKnownOperation, memberPathName, modeledErrors, shapeNamed } from '../../core/glue-model/operations.js';

/**
 * AWS quotes offending values verbatim; we cut them so that one error item stays well under 1 KB
 * even for multi-megabyte members, and list at most MAX_LISTED_VIOLATIONS items (the count in the
 * message's first words is still the real total).
 */
const MAX_RENDERED_VALUE_CHARS = 256;
const MAX_LISTED_VIOLATIONS = 100;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_LIMIT = 2 ** 63;

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Characters as AWS counts them: code points (a surrogate pair is one character). */
function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--;
        i++;
      }
    }
  }
  return length;
}

function isFloating(shape: Shape): boolean {
  return shape.type === 'double' || shape.type === 'float';
}

/** Numbers as Java prints them: doubles always carry a fraction ("1.0"). */
function renderNumber(n: number, floating: boolean): string {
  return floating && Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/**
 * Java-toString-like rendering of a request value (`[a, b]`, `{k=v}`), cut to `budget` characters
 * plus "..."; rendering stops as soon as the budget is exceeded, so huge values cost nothing.
 */
function renderValue(value: unknown, budget = MAX_RENDERED_VALUE_CHARS, floating = false): string {
  let out = '';
  /** Appends and answers whether there is budget left to continue. */
  const emit = (text: string) => {
    out += text.length > budget ? text.slice(0, budget + 1) : text;
    return out.length <= budget;
  };
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') return emit(v);
    if (typeof v === 'number') return emit(renderNumber(v, floating));
    if (Array.isArray(v)) {
      if (!emit('[')) return false;
      for (let i = 0; i < v.length; i++) {
        if ((i > 0 && !emit(', ')) || !walk(v[i])) return false;
      }
      return emit(']');
    }
    if (isPlainObject(v)) {
      if (!emit('{')) return false;
      let first = true;
      for (const key in v) {
        if ((!first && !emit(', ')) || !emit(`${key}=`) || !walk(v[key])) return false;
        first = false;
      }
      return emit('}');
    }
    return emit(String(v));
  };
  walk(value);
  return out.length > budget ? `${out.slice(0, budget)}...` : out;
}

/** The constraint texts a scalar value of this shape fails (empty when it is fine). */
function scalarViolations(shape: Shape, value: unknown): string[] {
  if (shape.type === 'string') return stringViolations(shape, value as string);
  if (shape.type === 'integer' || shape.type === 'long' || isFloating(shape)) {
    return numberViolations(shape as NumberShape, value as number);
  }
  return [];
}

function stringViolations(shape: StringShape, text: string): string[] {
  const failed: string[] = [];
  if (shape.min !== undefined || shape.max !== undefined) {
    const length = codePointLength(text);
    if (shape.max !== undefined && length > shape.max) failed.push(maxLengthText(shape.max));
    if (shape.min !== undefined && length < shape.min) failed.push(minLengthText(shape.min));
  }
  if (shape.pattern !== undefined && modelPattern(shape.pattern)?.test(text) === false) {
    failed.push(patternText(shape.pattern));
  }
  if (shape.enum !== undefined && !shape.enum.includes(text)) failed.push(enumText(shape.enum));
  return failed;
}

function numberViolations(shape: NumberShape, n: number): string[] {
  const failed: string[] = [];
  const floating = isFloating(shape);
  if (shape.max !== undefined && n > shape.max) {
    failed.push(`Member must have value less than or equal to ${renderNumber(shape.max, floating)}`);
  }
  if (shape.min !== undefined && n < shape.min) {
    failed.push(`Member must have value greater than or equal to ${renderNumber(shape.min, floating)}`);
  }
  return failed;
}

const maxLengthText = (max: number) => `Member must have length less than or equal to ${max}`;
const minLengthText = (min: number) => `Member must have length greater than or equal to ${min}`;
const patternText = (pattern: string) => `Member must satisfy regular expression pattern: ${pattern}`;
const enumText = (values: string[]) => `Member must satisfy enum value set: [${values.join(', ')}]`;
const NOT_NULL_TEXT = 'Member must not be null';

/** Every constraint of a map key/value shape, as AWS lists them in "Map keys must satisfy …". */
function allConstraintTexts(shape: Shape): string[] {
  const texts: string[] = [];
  if ('max' in shape && shape.max !== undefined) {
    texts.push(shape.type === 'string' || shape.type === 'list' || shape.type === 'map' || shape.type === 'blob'
      ? maxLengthText(shape.max)
      : `Member must have value less than or equal to ${renderNumber(shape.max, isFloating(shape))}`);
  }
  if ('min' in shape && shape.min !== undefined) {
    texts.push(shape.type === 'string' || shape.type === 'list' || shape.type === 'map' || shape.type === 'blob'
      ? minLengthText(shape.min)
      : `Member must have value greater than or equal to ${renderNumber(shape.min, isFloating(shape))}`);
  }
  if (shape.type === 'string' && shape.pattern !== undefined) texts.push(patternText(shape.pattern));
  if (shape.type === 'string' && shape.enum !== undefined) texts.push(enumText(shape.enum));
  return texts;
}

class RequestValidator {
  private readonly violations: string[] = [];

  private violation(path: string, value: unknown, constraint: string, floating = false): void {
    const shown = value === null ? 'null' : `'${renderValue(value, MAX_RENDERED_VALUE_CHARS, floating)}'`;
    this.violations.push(`Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`);
  }

  private typeError(path: string, expected: string, value: unknown, detail?: string): never {
    const where = path === '' ? 'the request body' : `member '${path}'`;
    const got = detail ?? jsonTypeOf(value);
    throw serializationError(`Unexpected value type for ${where}: expected ${expected}, got ${got}`);
  }

  /** Throws the collected ValidationException, if any. */
  finish(): void {
    const count = this.violations.length;
    if (count === 0) return;
    const listed = this.violations.slice(0, MAX_LISTED_VIOLATIONS).join('; ');
    const more = count > MAX_LISTED_VIOLATIONS ? `; (${count - MAX_LISTED_VIOLATIONS} more not shown)` : '';
    throw validationError(`${count} validation error${count === 1 ? '' : 's'} detected: ${listed}${more}`);
  }

  /** Checks a non-null value against a shape; `path` is the dotted wire path ('' for the body). */
  check(shapeName: string, value: unknown, path: string): void {
    const shape = shapeNamed(shapeName);
    switch (shape.type) {
      case 'structure':
        if (shape.document) return; // any JSON value
        if (!isPlainObject(value)) this.typeError(path, 'structure (JSON object)', value);
        for (const [name, member] of Object.entries(shape.members)) {
          const memberPath = path === '' ? memberPathName(name) : `${path}.${memberPathName(name)}`;
          const memberValue = Object.hasOwn(value, name) ? value[name] : undefined;
          if (memberValue === undefined || memberValue === null) {
            if (shape.required?.includes(name)) this.violation(memberPath, null, NOT_NULL_TEXT);
            continue;
          }
          this.check(member.shape, memberValue, memberPath);
        }
        return;
      case 'list':
        if (!Array.isArray(value)) this.typeError(path, 'list (JSON array)', value);
        this.checkLength(shape, value.length, value, path);
        value.forEach((item, i) => {
          const itemPath = `${path}.${i + 1}.member`;
          if (item === null) this.violation(itemPath, null, NOT_NULL_TEXT);
          else this.check(shape.member.shape, item, itemPath);
        });
        return;
      case 'map':
        if (!isPlainObject(value)) this.typeError(path, 'map (JSON object)', value);
        this.checkMap(shape, value, path);
        return;
      case 'string':
        if (typeof value !== 'string') this.typeError(path, 'string', value);
        for (const text of stringViolations(shape, value)) this.violation(path, value, text);
        return;
      case 'integer':
      case 'long':
      case 'float':
      case 'double':
        this.checkNumber(shape, value, path);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') this.typeError(path, 'boolean', value);
        return;
      case 'timestamp':
        if (parseRequestTimestamp(value) === undefined) {
          const got = typeof value === 'string' ? 'an unparseable string' : jsonTypeOf(value);
          this.typeError(path, 'timestamp (epoch seconds or ISO-8601 string)', value, got);
        }
        return;
      case 'blob':
        if (typeof value !== 'string') this.typeError(path, 'blob (base64 string)', value);
        return;
    }
  }

  private checkNumber(shape: NumberShape, value: unknown, path: string): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.typeError(path, shape.type, value);
    if (shape.type === 'integer' || shape.type === 'long') {
      if (!Number.isInteger(value)) this.typeError(path, shape.type, value, `non-integral number ${value}`);
      const inRange = shape.type === 'integer'
        ? value >= INT32_MIN && value <= INT32_MAX
        : Math.abs(value) < INT64_LIMIT;
      if (!inRange) this.typeError(path, shape.type, value, `out-of-range number ${value}`);
    }
    for (const text of numberViolations(shape, value)) this.violation(path, value, text, isFloating(shape));
  }

  private checkLength(shape: { min?: number; max?: number }, length: number, value: unknown, path: string): void {
    if (shape.max !== undefined && length > shape.max) this.violation(path, value, maxLengthText(shape.max));
    if (shape.min !== undefined && length < shape.min) this.violation(path, value, minLengthText(shape.min));
  }

  /**
   * AWS reports map entry problems once per map, on the map's path, listing every constraint of
   * the key (or value) shape: "Map keys must satisfy constraint: [Member must have length …]".
   * Values of structured shapes are checked member by member under `<map path>.<key>`.
   */
  private checkMap(shape: MapShape, map: PlainObject, path: string): void {
    const keys = Object.keys(map);
    this.checkLength(shape, keys.length, map, path);
    const keyShape = shapeNamed(shape.key.shape);
    const valueShape = shapeNamed(shape.value.shape);
    const scalarValues = valueShape.type !== 'structure' && valueShape.type !== 'list' && valueShape.type !== 'map';
    let badKey = false;
    let badValue = false;
    let nullValue = false;
    for (const key of keys) {
      if (scalarViolations(keyShape, key).length > 0) badKey = true;
      const entry = map[key];
      const entryPath = `${path}.${key.length > 64 ? `${key.slice(0, 64)}...` : key}`;
      if (entry === null) {
        badValue = nullValue = true;
        continue;
      }
      if (!scalarValues) {
        this.check(shape.value.shape, entry, entryPath);
        continue;
      }
      // Scalars are type-checked (a wrong type is still a SerializationException) without
      // recording per-entry violations, which AWS folds into one "Map value …" item.
      const before = this.violations.length;
      this.check(shape.value.shape, entry, entryPath);
      if (this.violations.length > before) {
        this.violations.length = before;
        badValue = true;
      }
    }
    if (badKey) {
      this.violation(path, map, `Map keys must satisfy constraint: [${allConstraintTexts(keyShape).join(', ')}]`);
    }
    if (badValue) {
      const texts = [...allConstraintTexts(valueShape), ...(nullValue ? [NOT_NULL_TEXT] : [])];
      this.violation(path, map, `Map value must satisfy constraint: [${texts.join(', ')}]`);
    }
  }
}

/**
 * Validates a parsed JSON request body (undefined = empty body = `{}`) for a model operation.
 * Throws ServiceError: SerializationException, ValidationException, or UnknownOperationException
 * for an operation the model does not have.
 */
export function validateInput(operation: string, input: unknown): void {
  if (!isKnownOperation(operation)) throw unknownOperation(`Unknown operation ${operation}`);
  const body = input === undefined ? {} : input;
  if (!isPlainObject(body)) {
    throw serializationError(`Unexpected value type for the request body: expected structure (JSON object), got ${jsonTypeOf(body)}`);
  }
  const shapeName = inputShapeName(operation);
  if (shapeName === undefined) return;
  const validator = new RequestValidator();
  validator.check(shapeName, body, '');
  validator.finish();
}
