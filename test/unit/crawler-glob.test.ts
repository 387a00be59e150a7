import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globPattern } from '../../src/catalog/crawlers/glob.js';

describe('crawler exclusion globs', () => {
  const matches = (glob: string, key: string) => globPattern(glob).test(key);
  it('`*` stays within a folder level, `**` crosses levels wherever it stands', () => {
    assert.equal(matches('*.csv', 'a.csv'), true);
    assert.equal(matches('*.csv', 'x/a.csv'), false);
    assert.equal(matches('**.tmp', 'x/y/a.tmp'), true);
    assert.equal(matches('year=2020/**.csv', 'year=2020/month=1/a.csv'), true);
    assert.equal(matches('logs/**', 'logs/a/b.json'), true);
    assert.equal(matches('**/_SUCCESS', '_SUCCESS'), true);
  });
  it('`?`, character classes (negated with `!`), alternatives and escapes', () => {
    assert.equal(matches('a?c', 'abc'), true);
    assert.equal(matches('a?c', 'a/c'), false);
    assert.equal(matches('[!a]*.csv', 'b.csv'), true);
    assert.equal(matches('[!a]*.csv', 'a.csv'), false);
    assert.equal(matches('[ab].csv', 'b.csv'), true);
    assert.equal(matches('{x,y}/*', 'y/1'), true);
    assert.equal(matches('{x,y}/*', 'z/1'), false);
    assert.equal(matches('a\\*b', 'a*b'), true);
    assert.equal(matches('a\\*b', 'axb'), false);
    assert.equal(matches('a.b', 'axb'), false, 'regular-expression characters are literal');
  });
});
