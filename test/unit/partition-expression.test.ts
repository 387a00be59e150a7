/** Glue's partition predicate language (src/catalog/partition-expression.ts): syntax corners and types. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePartitionExpression, type PartitionKey } from '../../src/catalog/partition-expression.js';
import { ServiceError } from '../../src/core/errors.js';

const KEYS: PartitionKey[] = [
  { name: 'Name', type: 'varchar(20)' },
  { name: 'n', type: 'bigint' },
  { name: 'price', type: 'decimal(10,2)' },
  { name: 'at', type: 'timestamp' },
  { name: 'ratio', type: 'double' },
];
const ROWS = [
  ["o'brien", '-5', '1.50', '2024-01-01 00:00:00'],
  ['100%', '12', '3e2', '2024-01-01 00:00:00.5'],
  ['a_b', '7', '0.25', '2023-12-31 23:59:59.999999999'],
].map((r) => [...r, '0.1']);

function select(expression: string): string[] {
  const keep = compilePartitionExpression(expression, KEYS, 'db.prices');
  return ROWS.filter((r) => keep(r)).map((r) => r[0]!);
}

function refusal(expression: string): { type: string; message: string } {
  try {
    select(expression);
  } catch (e) {
    assert.ok(e instanceof ServiceError, `${expression}: ${String(e)}`);
    return { type: e.type, message: e.message };
  }
  assert.fail(`${expression} was accepted`);
}

describe('partition expressions', () => {
  it('reads doubled quotes inside strings, backquoted and case-insensitive key names, and negative numbers', () => {
    assert.deepEqual(select("name = 'o''brien'"), ["o'brien"]);
    assert.deepEqual(select('`N` < -1'), ["o'brien"]);
    assert.deepEqual(select("NAME LIKE '100%' OR Name like 'a_b'"), ['100%', 'a_b']);
  });

  it('takes a key on either side of a comparison, and keywords in parentheses', () => {
    assert.deepEqual(select('10 < n'), ['100%']);
    assert.deepEqual(select('(n) > 0 (AND) (price) >= 0.5'), ['100%']);
    assert.deepEqual(select('NOT (n > 0 AND NOT n = 7)'), ["o'brien", 'a_b']);
  });

  it('compares decimals as numbers and timestamps to the nanosecond', () => {
    assert.deepEqual(select('price > 2'), ['100%']);
    assert.deepEqual(select("at = '2024-01-01 00:00:00.000'"), ["o'brien"]);
    assert.deepEqual(select("at > '2023-12-31 23:59:59.99999999' AND at < '2024-01-01 00:00:00.0000001'"), ["o'brien", 'a_b']);
  });

  it('refuses what it cannot compare, saying why', () => {
    assert.deepEqual(refusal('ratio = 0.1'), {
      type: 'InvalidInputException',
      message:
        'Partition key ratio has type double, which partition expressions cannot compare (they compare string, char, varchar, date, timestamp, tinyint, smallint, int, bigint, long and decimal keys).',
    });
    assert.deepEqual(refusal("at = '2024-01-01'"), { type: 'InvalidInputException', message: "'2024-01-01' is not a timestamp: partition key at is timestamp." });
    assert.deepEqual(refusal('n = price'), { type: 'InvalidInputException', message: 'Unsupported expression: = compares a partition key with a literal, not two keys.' });
    assert.equal(refusal('n = 1 OR').type, 'InvalidInputException');
    assert.match(refusal('n # 1').message, /unexpected character '#' at position 2/);
    assert.match(refusal('(n = 1').message, /expected '\)' but found the end of the expression/);
    // Glue's own words first, then which names are unknown (each once) and what the table has.
    assert.deepEqual(refusal("nn = 1 OR (colour = 'red' AND nn < 3)"), {
      type: 'InvalidInputException',
      message: 'Invalid partition expression! nn, colour are not partition keys: the partition keys of table db.prices are Name, n, price, at, ratio.',
    });
    assert.throws(
      () => compilePartitionExpression('day = 1', [], 'db.flat'),
      { message: 'Invalid partition expression! day is not a partition key: table db.flat has no partition keys (it is not partitioned).' },
    );
  });

  it('a stored value that is not of its key type is InvalidStateException', () => {
    const keep = compilePartitionExpression('n = 1', KEYS, 'db.prices');
    assert.throws(() => keep(['x', 'many', '1', '2024-01-01 00:00:00', '0']), (e: unknown) => e instanceof ServiceError && e.type === 'InvalidStateException');
  });
});
