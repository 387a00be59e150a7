import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../../src/api/errors.js';
import { GLUE_OPERATIONS, GLUE_SHAPES } from '../../src/core/glue-model/glue-shapes.js';
import { javaPatternToJs, modelPattern } from '../../src/core/glue-model/pattern.js';
import { parseRequestTimestamp } from '../../src/core/timestamp.js';
import { inputShapeName, isKnownOperation, validateInput } from '../../src/api/model/validate.js';

const ROLE = 'arn:aws:iam::123456789012:role/glue';

/** A CreateMLTransform body that passes validation; tests break one thing at a time. */
function validCreateBody(): Record<string, unknown> {
  return {
    Name: 'dedupe-customers',
    Role: ROLE,
    InputRecordTables: [{ DatabaseName: 'db', TableName: 'customers' }],
    Parameters: {
      TransformType: 'FIND_MATCHES',
      FindMatchesParameters: { PrimaryKeyColumnName: 'id', PrecisionRecallTradeoff: 0.5 },
    },
  };
}

/** Runs validateInput and returns the thrown ServiceError (failing the test if none is thrown). */
function rejection(operation: string, input: unknown): ServiceError {
  try {
    validateInput(operation, input);
  } catch (err) {
    assert.ok(err instanceof ServiceError, `expected a ServiceError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${operation} accepted ${JSON.stringify(input)?.slice(0, 200)}`);
}

function assertValidation(operation: string, input: unknown, expectedMessage: string | RegExp): void {
  const err = rejection(operation, input);
  assert.equal(err.type, 'ValidationException', err.message);
  assert.equal(err.status, 400);
  if (typeof expectedMessage === 'string') assert.equal(err.message, expectedMessage);
  else assert.match(err.message, expectedMessage);
}

function assertSerialization(operation: string, input: unknown, expectedMessage?: RegExp): void {
  const err = rejection(operation, input);
  assert.equal(err.type, 'SerializationException', err.message);
  assert.equal(err.status, 400);
  if (expectedMessage) assert.match(err.message, expectedMessage);
}

describe('validateInput', () => {
  it('accepts valid requests, an empty body for operations without required members, and undefined as {}', () => {
    validateInput('CreateMLTransform', validCreateBody());
    validateInput('GetMLTransforms', {});
    validateInput('ListMLTransforms', undefined);
    validateInput('GetMLTransform', { TransformId: 'tfm-0123456789abcdef' });
  });

  it('reports a missing or null required member as "Member must not be null"', () => {
    const expected =
      "1 validation error detected: Value null at 'transformId' failed to satisfy constraint: Member must not be null";
    assertValidation('GetMLTransform', {}, expected);
    assertValidation('GetMLTransform', { TransformId: null }, expected);
  });

  it('checks string length limits in characters (code points)', () => {
    assertValidation(
      'GetMLTransform',
      { TransformId: 'x'.repeat(256) },
      /^1 validation error detected: Value 'x+' at 'transformId' failed to satisfy constraint: Member must have length less than or equal to 255$/,
    );
    assertValidation(
      'GetMLTransform',
      { TransformId: '' },
      "1 validation error detected: Value '' at 'transformId' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    // 255 astral characters are 510 UTF-16 units but 255 characters: allowed.
    validateInput('GetMLTransform', { TransformId: '😀'.repeat(255) });
  });

  it('truncates huge offending values in the message', () => {
    const err = rejection('GetMLTransform', { TransformId: 'y'.repeat(100_000) });
    assert.ok(err.message.length < 1024, `message is ${err.message.length} chars`);
    assert.match(err.message, /\.\.\.' at 'transformId'/);
  });

  it('checks the SINGLE_LINE pattern: rejects a newline, accepts emoji and tabs', () => {
    assertValidation(
      'GetMLTransform',
      { TransformId: 'a\nb' },
      "1 validation error detected: Value 'a\nb' at 'transformId' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: [\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*',
    );
    validateInput('GetMLTransform', { TransformId: 'tfm 😀\tok' });
    // A lone surrogate is not a Unicode scalar value, so it is outside the allowed ranges.
    assertValidation('GetMLTransform', { TransformId: 'bad\uD800' }, /regular expression pattern/);
  });

  it('allows newlines in MULTI_LINE members such as Description', () => {
    validateInput('CreateMLTransform', { ...validCreateBody(), Description: 'line 1\r\nline 2' });
  });

  it('checks other model patterns (GlueVersion must look like "2.0")', () => {
    validateInput('CreateMLTransform', { ...validCreateBody(), GlueVersion: '2.0' });
    assertValidation(
      'CreateMLTransform',
      { ...validCreateBody(), GlueVersion: '2' },
      "1 validation error detected: Value '2' at 'glueVersion' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: ^(\\w+\\.)+\\w+$',
    );
  });

  it('checks enums, listing the allowed values', () => {
    assertValidation(
      'GetMLTransforms',
      { Filter: { Status: 'DONE' } },
      "1 validation error detected: Value 'DONE' at 'filter.status' failed to satisfy constraint: " +
        'Member must satisfy enum value set: [NOT_READY, READY, DELETING]',
    );
    assertValidation(
      'CreateMLTransform',
      { ...validCreateBody(), WorkerType: 'G.16X' },
      /Member must satisfy enum value set: \[Standard, G\.1X, G\.2X, G\.025X, G\.4X, G\.8X, Z\.2X\]$/,
    );
  });

  it('checks numeric ranges (doubles print like Java: 1.0)', () => {
    const body = validCreateBody();
    body.Parameters = {
      TransformType: 'FIND_MATCHES',
      FindMatchesParameters: { PrecisionRecallTradeoff: 1.5 },
    };
    assertValidation(
      'CreateMLTransform',
      body,
      "1 validation error detected: Value '1.5' at 'parameters.findMatchesParameters.precisionRecallTradeoff' " +
        'failed to satisfy constraint: Member must have value less than or equal to 1.0',
    );
    assertValidation(
      'GetMLTransforms',
      { MaxResults: 0 },
      "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    assertValidation('GetMLTransforms', { MaxResults: 1001 }, /less than or equal to 1000$/);
    validateInput('GetMLTransforms', { MaxResults: 1000 });
  });

  it('names nested list elements .N.member with N starting at 1', () => {
    const body = validCreateBody();
    body.InputRecordTables = [{ DatabaseName: 'db', TableName: 'ok' }, { DatabaseName: 'db' }];
    assertValidation(
      'CreateMLTransform',
      body,
      "1 validation error detected: Value null at 'inputRecordTables.2.member.tableName' failed to satisfy constraint: Member must not be null",
    );
    assertValidation(
      'UpdateTable',
      { DatabaseName: 'db', TableInput: { Name: 't', StorageDescriptor: { Columns: [{ Name: 'a' }, { Name: 'b', Comment: 'x\ny' }] } } },
      /at 'tableInput\.storageDescriptor\.columns\.2\.member\.comment' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    );
  });

  it('checks list lengths (GlueTables allows at most 10)', () => {
    const body = validCreateBody();
    body.InputRecordTables = Array.from({ length: 11 }, (_, i) => ({ DatabaseName: 'db', TableName: `t${i}` }));
    assertValidation('CreateMLTransform', body, /at 'inputRecordTables' failed to satisfy constraint: Member must have length less than or equal to 10$/);
  });

  it('checks map sizes and map key/value limits on the map path', () => {
    const tags51 = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    assertValidation(
      'TagResource',
      { ResourceArn: 'arn:aws:glue:us-east-1:123456789012:mlTransform/tfm-1', TagsToAdd: tags51 },
      /^1 validation error detected: Value '\{k0=v, k1=v, .*' at 'tagsToAdd' failed to satisfy constraint: Member must have length less than or equal to 50$/,
    );
    validateInput('TagResource', {
      ResourceArn: 'arn:aws:glue:us-east-1:123456789012:mlTransform/tfm-1',
      TagsToAdd: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'])),
    });
    assertValidation(
      'CreateMLTransform',
      { ...validCreateBody(), Tags: { ['k'.repeat(129)]: 'v' } },
      `1 validation error detected: Value '{${'k'.repeat(129)}=v}' at 'tags' failed to satisfy constraint: ` +
        'Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
    );
    assertValidation(
      'CreateMLTransform',
      { ...validCreateBody(), Tags: { team: 'v'.repeat(257) } },
      /at 'tags' failed to satisfy constraint: Map value must satisfy constraint: \[Member must have length less than or equal to 256, Member must have length greater than or equal to 0\]$/,
    );
  });

  it('rejects wrong JSON types with SerializationException naming the member path', () => {
    const body = validCreateBody();
    body.InputRecordTables = [{ DatabaseName: 7, TableName: 't' }];
    assertSerialization(
      'CreateMLTransform',
      body,
      /^Unexpected value type for member 'inputRecordTables\.1\.member\.databaseName': expected string, got number$/,
    );
    assertSerialization('CreateMLTransform', { ...validCreateBody(), InputRecordTables: 'db.t' }, /'inputRecordTables': expected list/);
    assertSerialization('CreateMLTransform', { ...validCreateBody(), Parameters: [] }, /'parameters': expected structure .*got array/);
    assertSerialization('CreateMLTransform', { ...validCreateBody(), Tags: ['a'] }, /'tags': expected map/);
    assertSerialization('CreateMLTransform', { ...validCreateBody(), Tags: { a: 1 } }, /'tags\.a': expected string, got number/);
    assertSerialization('CreateMLTransform', { ...validCreateBody(), MaxRetries: '3' }, /'maxRetries': expected integer, got string/);
    assertSerialization('CreateMLTransform', { ...validCreateBody(), MaxRetries: 2.5 }, /'maxRetries': expected integer, got non-integral number 2\.5/);
    assertSerialization('CreateMLTransform', { ...validCreateBody(), NumberOfWorkers: 2 ** 31 }, /out-of-range/);
    assertSerialization('CreateMLTransform', { ...validCreateBody(), MaxCapacity: '10' }, /'maxCapacity': expected double, got string/);
    assertSerialization('DeleteTable', { DatabaseName: 'db', Name: 't', CatalogId: true }, /'catalogId': expected string, got boolean/);
    assertSerialization('GetTable', { DatabaseName: 'db', Name: 't', IncludeStatusDetails: 'yes' }, /expected boolean, got string/);
  });

  it('rejects a body that is not a JSON object', () => {
    for (const body of [null, [], 'text', 42, true]) {
      assertSerialization('GetMLTransforms', body, /the request body: expected structure/);
    }
  });

  it('prefers SerializationException over constraint violations found in the same body', () => {
    assertSerialization('CreateMLTransform', { ...validCreateBody(), Name: 'x'.repeat(300), MaxRetries: '3' }, /'maxRetries'/);
  });

  it('counts multiple errors and lists them separated by "; "', () => {
    const err = rejection('CreateMLTransform', {
      Name: '',
      InputRecordTables: [{}],
      Parameters: { TransformType: 'NOPE' },
    });
    assert.equal(err.type, 'ValidationException');
    assert.match(err.message, /^5 validation errors detected: /);
    assert.equal(err.message.split('; ').length, 5);
    for (const fragment of [
      "Value null at 'role' failed to satisfy constraint: Member must not be null",
      "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
      "Value null at 'inputRecordTables.1.member.databaseName'",
      "Value null at 'inputRecordTables.1.member.tableName'",
      "Value 'NOPE' at 'parameters.transformType'",
    ]) {
      assert.ok(err.message.includes(fragment), `missing ${fragment} in ${err.message}`);
    }
  });

  it('ignores members the model does not know, at any depth', () => {
    const body = validCreateBody();
    body.SomeFutureMember = { anything: [1, 2, 3] };
    (body.InputRecordTables as Record<string, unknown>[])[0]!.FutureOption = 5;
    validateInput('CreateMLTransform', body);
  });

  it('accepts timestamps as epoch numbers, numeric strings and ISO-8601; rejects anything else', () => {
    for (const when of [1700000000, 1700000000.123, '1700000000', '1700000000.5', '2024-01-02T03:04:05Z', '2024-01-02T03:04:05.123+01:00', '2024-01-02']) {
      validateInput('GetMLTaskRuns', { TransformId: 'tfm-1', Filter: { StartedBefore: when } });
    }
    for (const when of ['yesterday', '', '2024-13-01T00:00:00Z', '2023-02-29', true, [], {}]) {
      assertSerialization('GetMLTaskRuns', { TransformId: 'tfm-1', Filter: { StartedAfter: when } }, /'filter\.startedAfter': expected timestamp/);
    }
  });

  it('throws UnknownOperationException for operations missing from the model', () => {
    assert.equal(rejection('DropEverything', {}).type, 'UnknownOperationException');
    assert.equal(isKnownOperation('DropEverything'), false);
    assert.equal(isKnownOperation('toString'), false);
    assert.equal(isKnownOperation('GetMLTaskRun'), true);
    assert.equal(inputShapeName('GetMLTaskRun'), 'GetMLTaskRunRequest');
  });
});

describe('model patterns', () => {
  it('translates the surrogate-pair range to a code-point range and anchors the pattern', () => {
    assert.equal(
      javaPatternToJs('[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*'),
      '^(?:[\\u0020-\\uD7FF\\uE000-\\uFFFD\\u{10000}-\\u{10FFFF}\\t]*)$',
    );
    assert.equal(modelPattern('a|b')!.test('ab'), false);
    assert.equal(modelPattern('^[A-Z\\_]+$')!.test('A_B'), true);
    assert.equal(modelPattern('[\\p{L}\\p{N}\\p{P}]*')!.test('Zoë-42'), true);
  });

  it('compiles every pattern in the generated model', () => {
    for (const [name, shape] of Object.entries(GLUE_SHAPES)) {
      if (shape.type === 'string' && shape.pattern !== undefined) {
        assert.ok(modelPattern(shape.pattern), `pattern of ${name} does not compile: ${shape.pattern}`);
      }
    }
  });

  it('the generated model references only shapes it contains', () => {
    const has = (n: string | undefined) => n === undefined || Object.hasOwn(GLUE_SHAPES, n);
    for (const op of Object.values(GLUE_OPERATIONS)) assert.ok(has(op.input) && has(op.output));
    for (const shape of Object.values(GLUE_SHAPES)) {
      if (shape.type === 'structure') for (const m of Object.values(shape.members)) assert.ok(has(m.shape), m.shape);
      if (shape.type === 'list') assert.ok(has(shape.member.shape));
      if (shape.type === 'map') assert.ok(has(shape.key.shape) && has(shape.value.shape));
    }
  });
});

describe('parseRequestTimestamp', () => {
  it('returns the instant for each accepted form', () => {
    assert.equal(parseRequestTimestamp(1700000000.5)!.getTime(), 1700000000500);
    assert.equal(parseRequestTimestamp('1700000000')!.getTime(), 1700000000000);
    assert.equal(parseRequestTimestamp('2023-11-14T22:13:20Z')!.getTime(), 1700000000000);
    assert.equal(parseRequestTimestamp('2023-11-14T23:13:20+0100')!.getTime(), 1700000000000);
    assert.equal(parseRequestTimestamp('not a date'), undefined);
    assert.equal(parseRequestTimestamp(1e300), undefined);
  });
});
