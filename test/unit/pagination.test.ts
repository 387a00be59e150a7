import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paginate } from '../../src/core/pagination.js';

type Item = { id: string; n: number };
const items: Item[] = Array.from({ length: 7 }, (_, i) => ({ id: `id${i}`, n: i % 3 }));
const key = (x: Item): [number, string] => [x.n, x.id];

function all(desc: boolean, size: number, list = items) {
  const out: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = paginate(list, key, desc, { nextToken: token, maxResults: size, defaultPageSize: 100, fingerprint: 'f' });
    out.push(...r.page.map((x) => x.id));
    token = r.nextToken;
    pages++;
  } while (token);
  return { out, pages };
}

describe('keyset pagination', () => {
  it('returns every item once, in order, in ceil(n/size) pages', () => {
    const asc = all(false, 3);
    assert.deepEqual(asc.out, ['id0', 'id3', 'id6', 'id1', 'id4', 'id2', 'id5']);
    assert.equal(asc.pages, 3);
    assert.deepEqual(all(true, 2).out, [...asc.out].reverse());
  });

  it('omits NextToken on the last page', () => {
    const r = paginate(items, key, false, { maxResults: 7, defaultPageSize: 100, fingerprint: 'f' });
    assert.equal(r.page.length, 7);
    assert.equal(r.nextToken, undefined);
  });

  it('survives deletion of the last returned item between calls', () => {
    const first = paginate(items, key, false, { maxResults: 2, defaultPageSize: 100, fingerprint: 'f' });
    const rest = items.filter((x) => x.id !== 'id3');
    const second = paginate(rest, key, false, { nextToken: first.nextToken, maxResults: 2, defaultPageSize: 100, fingerprint: 'f' });
    assert.deepEqual(second.page.map((x) => x.id), ['id6', 'id1']);
  });

  it('rejects a token from another request or a garbled one', () => {
    const first = paginate(items, key, false, { maxResults: 2, defaultPageSize: 100, fingerprint: 'f' });
    assert.throws(
      () => paginate(items, key, false, { nextToken: first.nextToken, defaultPageSize: 100, fingerprint: 'g' }),
      /NextToken/,
    );
    assert.throws(() => paginate(items, key, false, { nextToken: '%%%', defaultPageSize: 100, fingerprint: 'f' }), /NextToken/);
  });
});
