import { invalidInput, ServiceError } from '../core/errors.js';

/**
 * Glue's partition predicate language (GetPartitions Expression, and a job's push-down predicate):
 * a SQL WHERE clause over a table's partition keys with =, <>, !=, <, >, <=, >=, AND, OR, NOT,
 * parentheses, [NOT] BETWEEN, [NOT] IN, [NOT] LIKE and IS [NOT] NULL. Literals are compared as the
 * type of the partition key they meet (string, date, timestamp, tinyint, smallint, int, integer,
 * bigint, long, decimal), so `day > '2024-01-09'` on a date key compares dates, not text.
 */

/** A partition key as the table declares it (a Column: Name and Type). */
export interface PartitionKey {
  name: string;
  type: string;
}

/** Whether a partition, given by its values (one per key, in the keys' order), is selected. */
export type PartitionFilter = (values: string[]) => boolean;

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'number'; text: string; at: number }
  | { kind: 'symbol'; text: string; at: number }
  | { kind: 'end'; text: ''; at: number };

type Operand = { kind: 'key'; index: number } | { kind: 'literal'; text: string };

type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; operand: Node }
  | { kind: 'compare'; op: string; left: Operand; right: Operand }
  | { kind: 'between'; key: Operand; low: Operand; high: Operand }
  | { kind: 'in'; key: Operand; list: Operand[] }
  | { kind: 'like'; key: Operand; pattern: Operand }
  | { kind: 'isNull'; key: Operand };

/** Thrown inside the parser where it cannot go on; turned into InvalidInputException at the top. */
class Unsupported extends Error {}

/**
 * Compiles the expression against the partition keys of `table` (`database.table`, named in
 * messages); a bad one is InvalidInputException.
 */
export function compilePartitionExpression(expression: string, keys: PartitionKey[], table: string): PartitionFilter {
  const types = keys.map((k) => keyType(k));
  const parser = new Parser(tokenize(expression), keys);
  let tree: Node;
  try {
    tree = parser.parseAll();
  } catch (e) {
    if (e instanceof Unsupported) throw invalidInput(`Unsupported expression '${expression}': ${e.message}`);
    throw e;
  }
  if (parser.unknownKeys.length > 0) throw invalidInput(unknownKeysMessage(parser.unknownKeys, keys, table));
  const evaluate = compileNode(tree, keys, types);
  return (values) => evaluate(values);
}

/**
 * Glue's own answer for names that are not partition keys, "Invalid partition expression!", then
 * which names those are and which keys the table has, for someone to fix it without looking.
 */
function unknownKeysMessage(unknown: string[], keys: PartitionKey[], table: string): string {
  const names = unknown.join(', ');
  const what = unknown.length === 1 ? `${names} is not a partition key` : `${names} are not partition keys`;
  const has =
    keys.length === 0
      ? `table ${table} has no partition keys (it is not partitioned)`
      : `the partition keys of table ${table} are ${keys.map((k) => k.name).join(', ')}`;
  return `Invalid partition expression! ${what}: ${has}.`;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw invalidInput(`Unsupported expression '${text}': the string starting at position ${at} is not closed.`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'string', text: value, at });
      continue;
    }
    const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ kind: 'number', text: number[0], at });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i)) ?? /^`([^`]+)`/.exec(text.slice(i));
    if (word) {
      tokens.push({ kind: 'word', text: word[1] ?? word[0], at });
      i += word[0].length;
      continue;
    }
    const symbol = /^(?:<>|!=|<=|>=|[=<>(),-])/.exec(text.slice(i));
    if (symbol) {
      tokens.push({ kind: 'symbol', text: symbol[0], at });
      i += symbol[0].length;
      continue;
    }
    throw invalidInput(`Unsupported expression '${text}': unexpected character '${c}' at position ${at}.`);
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}

const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'LIKE', 'IS', 'NULL']);

/** Recursive descent over the tokens: OR binds loosest, then AND, then NOT. */
class Parser {
  #pos = 0;
  /** The names the expression uses as keys that are none of the table's, each once, in order. */
  readonly unknownKeys: string[] = [];

  constructor(
    private readonly tokens: Token[],
    private readonly keys: PartitionKey[],
  ) {}

  parseAll(): Node {
    const node = this.#or();
    const next = this.#peek();
    if (next.kind !== 'end') throw new Unsupported(`unexpected ${describe(next)} at position ${next.at}.`);
    return node;
  }

  #peek(offset = 0): Token {
    return this.tokens[Math.min(this.#pos + offset, this.tokens.length - 1)]!;
  }

  #isKeyword(t: Token, word: string): boolean {
    return t.kind === 'word' && t.text.toUpperCase() === word;
  }

  /** Takes the keyword, also when written in parentheses (`(OR)`), which Glue's parser accepts. */
  #takeKeyword(word: string): boolean {
    if (this.#isKeyword(this.#peek(), word)) {
      this.#pos++;
      return true;
    }
    const [open, kw, close] = [this.#peek(), this.#peek(1), this.#peek(2)];
    if (open.text === '(' && open.kind === 'symbol' && this.#isKeyword(kw, word) && close.text === ')' && close.kind === 'symbol') {
      this.#pos += 3;
      return true;
    }
    return false;
  }

  #expectSymbol(symbol: string): void {
    const t = this.#peek();
    if (t.kind !== 'symbol' || t.text !== symbol) {
      throw new Unsupported(`expected '${symbol}' but found ${describe(t)} at position ${t.at}.`);
    }
    this.#pos++;
  }

  #or(): Node {
    let node = this.#and();
    while (this.#takeKeyword('OR')) node = { kind: 'or', left: node, right: this.#and() };
    return node;
  }

  #and(): Node {
    let node = this.#not();
    while (this.#takeKeyword('AND')) node = { kind: 'and', left: node, right: this.#not() };
    return node;
  }

  #not(): Node {
    if (this.#takeKeyword('NOT')) return { kind: 'not', operand: this.#not() };
    return this.#primary();
  }

  /** A predicate, or a parenthesized expression: `(` may open either, so the predicate is tried first. */
  #primary(): Node {
    const start = this.#pos;
    if (this.#peek().kind === 'symbol' && this.#peek().text === '(') {
      try {
        return this.#predicate();
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        this.#pos = start + 1;
        const inner = this.#or();
        this.#expectSymbol(')');
        return inner;
      }
    }
    return this.#predicate();
  }

  #predicate(): Node {
    const left = this.#operand();
    const t = this.#peek();
    if (t.kind === 'symbol' && COMPARISONS.has(t.text)) {
      this.#pos++;
      return { kind: 'compare', op: t.text === '!=' ? '<>' : t.text, left, right: this.#operand() };
    }
    if (this.#takeKeyword('IS')) {
      const negated = this.#takeKeyword('NOT');
      const n = this.#peek();
      if (!this.#takeKeyword('NULL')) throw new Unsupported(`expected NULL after IS${negated ? ' NOT' : ''} but found ${describe(n)} at position ${n.at}.`);
      const node: Node = { kind: 'isNull', key: left };
      return negated ? { kind: 'not', operand: node } : node;
    }
    const negated = this.#takeKeyword('NOT');
    let node: Node;
    if (this.#takeKeyword('BETWEEN')) {
      const low = this.#operand();
      if (!this.#takeKeyword('AND')) throw new Unsupported(`expected AND in BETWEEN at position ${this.#peek().at}.`);
      node = { kind: 'between', key: left, low, high: this.#operand() };
    } else if (this.#takeKeyword('IN')) {
      this.#expectSymbol('(');
      const list = [this.#operand()];
      while (this.#peek().kind === 'symbol' && this.#peek().text === ',') {
        this.#pos++;
        list.push(this.#operand());
      }
      this.#expectSymbol(')');
      node = { kind: 'in', key: left, list };
    } else if (this.#takeKeyword('LIKE')) {
      node = { kind: 'like', key: left, pattern: this.#operand() };
    } else {
      const n = this.#peek();
      throw new Unsupported(`expected a comparison, BETWEEN, IN, LIKE or IS after the operand, found ${describe(n)} at position ${n.at}.`);
    }
    return negated ? { kind: 'not', operand: node } : node;
  }

  #operand(): Operand {
    const t = this.#peek();
    if (t.kind === 'symbol' && t.text === '(') {
      this.#pos++;
      const inner = this.#operand();
      this.#expectSymbol(')');
      return inner;
    }
    if (t.kind === 'symbol' && t.text === '-' && this.#peek(1).kind === 'number') {
      this.#pos += 2;
      return { kind: 'literal', text: `-${this.#peek(-1).text}` };
    }
    if (t.kind === 'string' || t.kind === 'number') {
      this.#pos++;
      return { kind: 'literal', text: t.text };
    }
    if (t.kind === 'word' && !KEYWORDS.has(t.text.toUpperCase())) {
      this.#pos++;
      const index = this.keys.findIndex((k) => k.name.toLowerCase() === t.text.toLowerCase());
      // Parsing goes on, so that the error names every unknown key (compilePartitionExpression).
      if (index < 0 && !this.unknownKeys.includes(t.text)) this.unknownKeys.push(t.text);
      return { kind: 'key', index };
    }
    throw new Unsupported(`expected a partition key or a literal but found ${describe(t)} at position ${t.at}.`);
  }
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'the end of the expression' : `'${t.text}'`;
}

/** A key's type as compared: values of each are parsed into something ordered. */
interface KeyType {
  /** The family name Glue's messages use (Integral, Decimal, Date, Timestamp, String). */
  family: string;
  /** A value (stored or literal) as an ordered key, or undefined when it is not of the type. */
  parse(text: string): bigint | number | string | undefined;
  /** "an integer", "a decimal", …: what a value that does not parse is not. */
  article: string;
}

const INTEGRAL: KeyType = {
  family: 'Integral',
  article: 'an integer',
  parse: (t) => (/^[+-]?\d+$/.test(t.trim()) ? BigInt(t.trim()) : undefined),
};
const DECIMAL: KeyType = {
  family: 'Decimal',
  article: 'a decimal',
  parse: (t) => (/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t.trim()) ? Number(t.trim()) : undefined),
};
const DATE: KeyType = {
  family: 'Date',
  article: 'a date',
  parse: (t) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t.trim());
    return m && validDate(m[1]!, m[2]!, m[3]!) ? m[0] : undefined;
  },
};
const TIMESTAMP: KeyType = {
  family: 'Timestamp',
  article: 'a timestamp',
  // Ordered as text once the fraction is padded to nanoseconds.
  parse: (t) => {
    const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(t.trim());
    if (!m || !validDate(m[1]!, m[2]!, m[3]!) || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return undefined;
    return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}.${(m[7] ?? '').padEnd(9, '0')}`;
  },
};
const STRING: KeyType = { family: 'String', article: 'a string', parse: (t) => t };

function validDate(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

const TYPES: ReadonlyMap<string, KeyType> = new Map([
  ['string', STRING],
  ['char', STRING],
  ['varchar', STRING],
  ['date', DATE],
  ['timestamp', TIMESTAMP],
  ['tinyint', INTEGRAL],
  ['smallint', INTEGRAL],
  ['int', INTEGRAL],
  ['integer', INTEGRAL],
  ['bigint', INTEGRAL],
  ['long', INTEGRAL],
  ['decimal', DECIMAL],
]);

/** The key's type, or undefined for one the language cannot compare (found only if it is used). */
function keyType(key: PartitionKey): KeyType | undefined {
  const base = key.type.trim().toLowerCase().replace(/\(.*\)$/, '');
  return TYPES.get(base);
}

type Evaluate = (values: string[]) => boolean;

function compileNode(node: Node, keys: PartitionKey[], types: Array<KeyType | undefined>): Evaluate {
  const sub = (n: Node) => compileNode(n, keys, types);
  switch (node.kind) {
    case 'and': {
      const [l, r] = [sub(node.left), sub(node.right)];
      return (v) => l(v) && r(v);
    }
    case 'or': {
      const [l, r] = [sub(node.left), sub(node.right)];
      return (v) => l(v) || r(v);
    }
    case 'not': {
      const inner = sub(node.operand);
      return (v) => !inner(v);
    }
    case 'isNull': {
      keyOf(node.key, 'IS NULL');
      // Partition values are strings, never null.
      return () => false;
    }
    case 'compare': {
      const [key, literal, flipped] =
        node.left.kind === 'key' ? [node.left, node.right, false] : [node.right, node.left, true];
      const index = keyOf(key, node.op);
      const type = typeOf(index, keys, types);
      const right = literal.kind === 'key' ? undefined : typed(type, keys[index]!, literal.text);
      if (right === undefined) throw invalidInput(`Unsupported expression: ${node.op} compares a partition key with a literal, not two keys.`);
      const op = flipped ? FLIP[node.op]! : node.op;
      return (v) => holds(op, compare(stored(type, keys[index]!, v[index]!), right));
    }
    case 'between': {
      const index = keyOf(node.key, 'BETWEEN');
      const type = typeOf(index, keys, types);
      const [low, high] = [literalOf(node.low, 'BETWEEN'), literalOf(node.high, 'BETWEEN')].map((t) => typed(type, keys[index]!, t));
      return (v) => {
        const x = stored(type, keys[index]!, v[index]!);
        return compare(x, low!) >= 0 && compare(x, high!) <= 0;
      };
    }
    case 'in': {
      const index = keyOf(node.key, 'IN');
      const type = typeOf(index, keys, types);
      const list = node.list.map((o) => typed(type, keys[index]!, literalOf(o, 'IN')));
      return (v) => {
        const x = stored(type, keys[index]!, v[index]!);
        return list.some((y) => compare(x, y) === 0);
      };
    }
    case 'like': {
      const index = keyOf(node.key, 'LIKE');
      const type = typeOf(index, keys, types);
      if (type !== STRING) {
        throw invalidInput(
          `${keys[index]!.name} is a ${keys[index]!.type} partition key: ${type.family} data type doesn't support operation 'LIKE' (LIKE applies to string keys).`,
        );
      }
      const pattern = likePattern(literalOf(node.pattern, 'LIKE'));
      return (v) => pattern.test(v[index]!);
    }
  }
}

const FLIP: Record<string, string> = { '=': '=', '<>': '<>', '<': '>', '>': '<', '<=': '>=', '>=': '<=' };

function holds(op: string, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    default:
      return c >= 0;
  }
}

function compare(a: bigint | number | string, b: bigint | number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyOf(operand: Operand, operation: string): number {
  if (operand.kind !== 'key') throw invalidInput(`Unsupported expression: ${operation} must apply to a partition key.`);
  return operand.index;
}

function literalOf(operand: Operand, operation: string): string {
  if (operand.kind !== 'literal') throw invalidInput(`Unsupported expression: ${operation} takes literals, not partition keys.`);
  return operand.text;
}

function typeOf(index: number, keys: PartitionKey[], types: Array<KeyType | undefined>): KeyType {
  const type = types[index];
  if (!type) {
    const key = keys[index]!;
    throw invalidInput(
      `Partition key ${key.name} has type ${key.type}, which partition expressions cannot compare ` +
        '(they compare string, char, varchar, date, timestamp, tinyint, smallint, int, bigint, long and decimal keys).',
    );
  }
  return type;
}

function typed(type: KeyType, key: PartitionKey, text: string): bigint | number | string {
  const value = type.parse(text);
  if (value === undefined) throw invalidInput(`'${text}' is not ${type.article}: partition key ${key.name} is ${key.type}.`);
  return value;
}

/** A stored partition value that is not of its key's type cannot be compared: the catalog itself is inconsistent. */
function stored(type: KeyType, key: PartitionKey, text: string): bigint | number | string {
  const value = type.parse(text);
  if (value === undefined) {
    throw new ServiceError('InvalidStateException', `Partition value "${text}" is not ${type.article}, the type of partition key ${key.name} (${key.type}).`);
  }
  return value;
}

/** SQL LIKE: % any run of characters, _ one character, everything else literal. */
function likePattern(pattern: string): RegExp {
  const source = [...pattern]
    .map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's');
}
