/**
 * How the crawler tells a quoted CSV file from an unquoted one (classify.ts), on real files read by
 * DuckDB: a field starting with a quote anywhere in the file makes it quoted, a quote inside a field
 * never does, wherever it falls in the file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifyFile } from '../../src/catalog/crawlers/classify.js';
import { DuckDbSession } from '../../src/catalog/table-data/duckdb-session.js';

describe('crawler CSV quoting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'doppel-classify-'));
  let session: DuckDbSession;
  before(async () => {
    session = await DuckDbSession.open();
  });
  after(async () => {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const quoted = async (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    const schema = await classifyFile(session, path);
    assert.ok('classification' in schema && schema.classification === 'csv', `${name}: ${JSON.stringify(schema)}`);
    return schema.quoted;
  };
  const lines = Array.from({ length: 400 }, (_, i) => `${i},item ${i},${i * 3}`);

  it('a quote inside a field is data, at any offset from the end of the file (fileMatches scans it in windows)', async () => {
    // The last record's long name holds the last 5,000 bytes but a few, so the quote put into it lands
    // where a scanning window starts (4,096 bytes before the end), and next to it.
    const body = `id,name,size\n${lines.join('\n')}\n400,${'a'.repeat(5000)},1\n`;
    for (const back of [4095, 4096, 4097]) {
      const at = body.length - back;
      const text = `${body.slice(0, at)}"${body.slice(at)}`;
      assert.equal(text.length - at, back + 1);
      assert.equal(await quoted(`inner-${back}.csv`, text), false, `a quote ${back} bytes before the end`);
    }
  });

  it('a field starting with a quote makes the file quoted: on line 300, or as the first field of the file (after a BOM)', async () => {
    const late = lines.map((l, i) => (i === 300 ? `${i},"item, ${i}",${i * 3}` : l));
    assert.equal(await quoted('late.csv', `id,name,size\n${late.join('\n')}\n`), true);
    assert.equal(await quoted('first.csv', `\uFEFF"id",name,size\n${lines.join('\n')}\n`), true);
    assert.equal(await quoted('plain.csv', `id,name,size\n${lines.join('\n')}\n`), false);
  });
});
