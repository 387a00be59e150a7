/**
 * The doppel command line's own answers, before any server is involved: every command's --help, and
 * the arguments a command refuses before it calls anything.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli.js';

describe('doppel COMMAND --help', () => {
  for (const command of ['serve', 'worker', 'find-matches', 'explain']) {
    for (const flag of ['--help', '-h']) {
      it(`doppel ${command} ${flag} prints its usage and exits 0 (serve and worker start nothing)`, async () => {
        const r = await runCli([command, flag]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '');
        assert.ok(r.stdout.startsWith(`Usage:\n  doppel ${command} `), r.stdout);
      });
    }
  }

  it('the general help lists every command and the --help of each', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.status, 0, r.stderr);
    for (const command of ['serve', 'worker', 'find-matches', 'explain']) assert.match(r.stdout, new RegExp(`^ {2}doppel ${command} `, 'm'));
    assert.match(r.stdout, /^ {2}doppel COMMAND --help$/m);
  });
});

describe('arguments refused before any call', () => {
  it('doppel explain names what is missing, an odd number of keys as such, and a record paired with itself', async () => {
    const noTransform = await runCli(['explain', 'a', 'b']);
    assert.equal(noTransform.status, 2);
    assert.match(noTransform.stderr, /^--transform-id is required\n/);
    const noKeys = await runCli(['explain', '--transform-id', 'tfm-x']);
    assert.equal(noKeys.status, 2);
    assert.match(noKeys.stderr, /^pairs of primary keys are required\n/);
    const odd = await runCli(['explain', '--transform-id', 'tfm-x', 'a', 'b', 'c']);
    assert.equal(odd.status, 2);
    assert.match(odd.stderr, /^the primary keys must come in pairs, got an odd number \(3\)\n/);
    const self = await runCli(['explain', '--transform-id', 'tfm-x', 'a', 'b', 'r001', 'r001']);
    assert.equal(self.status, 2);
    assert.match(self.stderr, /^pair 2 \(r001 r001\) names the same record twice: a record is not explained against itself, give two different primary keys\n\nUsage:/);
    assert.equal(self.stdout, '');
  });

  it('doppel find-matches takes --keep-incremental-state true or false only, and not with --no-incremental-state', async () => {
    const required = ['find-matches', '--transform-id', 'tfm-x', '--output-path', 's3://b/out/'];
    const bad = await runCli([...required, '--keep-incremental-state', 'no']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^--keep-incremental-state must be true or false, got "no"\n/);
    const both = await runCli([...required, '--keep-incremental-state', 'false', '--no-incremental-state']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /either --keep-incremental-state or --no-incremental-state, not both/);
  });
});
