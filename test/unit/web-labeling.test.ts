/**
 * The web UI's labeling logic (web/src/labeling-work.ts) and its CSV (web/src/csv.ts), which hold
 * no DOM: the grouping a user's keys make, undo, and the label file the import reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CsvParser, parseCsv, stringifyCsv } from '../../web/src/csv.js';
import { allMatch, assign, confirm, groupForKey, groupName, groupNumber, labelFile, noneMatch, progress, skip, undo, workFromLabelingFile } from '../../web/src/labeling-work.js';

const FILE = [
  ['labeling_set_id', 'label', 'id', 'name'],
  ['set-0001', 'A', 'r1', 'chin\'s'],
  ['set-0001', 'A', 'r2', 'chins'],
  ['set-0001', 'B', 'r3', 'moongate'],
  ['set-0002', 'C', 'r4', 'eats, "the" place'],
  ['set-0002', 'D', 'r5', 'eats'],
];

describe('web UI labeling work', () => {
  it('reads a labeling file: sets in order, the suggestion as groups in order of first label', () => {
    const work = workFromLabelingFile('tfm-1', 'id', 's3://b/l/part-00000.csv', FILE);
    assert.deepEqual(work.columns, ['id', 'name']);
    assert.deepEqual(work.sets.map((s) => [s.id, s.suggested, s.state]), [
      ['set-0001', [0, 0, 1], 'suggested'],
      ['set-0002', [0, 1], 'suggested'],
    ]);
    assert.throws(() => workFromLabelingFile('tfm-1', 'id', 'x.csv', [['id', 'name']]), /not a labeling file/);
  });

  it('groups by key, all match, none match, undo back to the suggestion, skip', () => {
    const work = workFromLabelingFile('tfm-1', 'id', 'x', FILE);
    assign(work, 2, 0);
    assert.deepEqual(work.sets[0]!.groups, [0, 0, 0]);
    assert.equal(work.sets[0]!.state, 'labeled');
    // A group keeps the name its key gave it: a record moved to group 5 alone is in E.
    assign(work, 0, 4);
    assert.deepEqual(work.sets[0]!.groups, [4, 0, 0]);
    noneMatch(work);
    assert.deepEqual(work.sets[0]!.groups, [0, 1, 2]);
    allMatch(work);
    assert.deepEqual(work.sets[0]!.groups, [0, 0, 0]);
    // Undo names the record a group key moved, so the view can choose it again.
    assert.deepEqual(undo(work), { row: undefined });
    assert.deepEqual(undo(work), { row: undefined });
    assert.deepEqual(undo(work), { row: 0 });
    assert.deepEqual(undo(work), { row: 2 });
    assert.deepEqual(work.sets[0]!.groups, [0, 0, 1]);
    assert.equal(work.sets[0]!.state, 'suggested');
    assert.equal(undo(work), false);
    confirm(work);
    assert.equal(work.current, 1);
    skip(work);
    assert.deepEqual(progress(work), { labeled: 1, skipped: 1, total: 2 });
    assert.ok(undo(work));
    assert.equal(work.current, 1);
    assert.equal(work.sets[1]!.state, 'suggested');
  });

  it('writes the labeled sets only, with letter labels, in CSV that reads back', () => {
    const work = workFromLabelingFile('tfm-1', 'id', 'x', FILE);
    work.current = 1;
    allMatch(work);
    const rows = labelFile(work);
    assert.deepEqual(rows, [
      ['labeling_set_id', 'label', 'id', 'name'],
      ['set-0002', 'A', 'r4', 'eats, "the" place'],
      ['set-0002', 'A', 'r5', 'eats'],
    ]);
    const text = stringifyCsv(rows);
    assert.match(text, /^set-0002,A,r4,"eats, ""the"" place"$/m);
    assert.deepEqual(parseCsv(text), rows);
    assert.deepEqual(parseCsv('a,b\r\n"x\ny",""\r\n'), [['a', 'b'], ['x\ny', '']]);
  });

  it('names groups A to Z, then AA', () => {
    assert.deepEqual([0, 1, 25, 26, 27, 701, 702].map(groupName), ['A', 'B', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
  });

  it('reads group names back, and maps keys to groups beyond nine', () => {
    for (const n of [0, 8, 9, 25, 26, 27, 51, 52, 701, 702]) assert.equal(groupNumber(groupName(n)), n);
    assert.equal(groupNumber('j'), 9);
    assert.equal(groupNumber('J1'), undefined);
    const groups = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(groupForKey('1', groups), 0);
    assert.equal(groupForKey('9', groups), 8);
    assert.equal(groupForKey('0', groups), 11, '0: a new group after the highest');
    assert.equal(groupForKey('J', groups), 9, 'Shift+J: group J, the tenth');
    assert.equal(groupForKey('K', groups), 10);
    for (const key of ['a', 'n', 'u', 'Enter', 'ArrowDown']) assert.equal(groupForKey(key, groups), undefined, key);
  });

  it('parses CSV fed in pieces split anywhere (in quotes, between CR and LF) as it parses it whole', () => {
    const text = 'id,name\r\nr1,"eats, ""the"" place"\r\nr2,"two\nlines"\nr3,\n"",last';
    const whole = parseCsv(text);
    assert.deepEqual(whole, [['id', 'name'], ['r1', 'eats, "the" place'], ['r2', 'two\nlines'], ['r3', ''], ['', 'last']]);
    for (let a = 0; a <= text.length; a++)
      for (let b = a; b <= text.length; b += 3) {
        const parser = new CsvParser();
        const rows = [...parser.push(text.slice(0, a)), ...parser.push(text.slice(a, b)), ...parser.push(text.slice(b)), ...parser.end()];
        assert.deepEqual(rows, whole, `split at ${a} and ${b}`);
      }
  });
});
