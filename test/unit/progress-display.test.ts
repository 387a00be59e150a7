import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, ProgressDisplay } from '../../src/cli/progress-display.js';

/** An output that records what is written, and a clock the test moves. */
function fixture(isTTY: boolean) {
  const written: string[] = [];
  let now = 0;
  const display = new ProgressDisplay({ isTTY, columns: 100, write: (t: string) => written.push(t) }, () => now, 10_000);
  return { display, written, advance: (ms: number) => (now += ms) };
}

describe('the command line progress display', () => {
  it('on a terminal redraws a bar with percent, stage and the time left at the pace so far', () => {
    const { display, written, advance } = fixture(true);
    display.update({ stage: 'reading table db.t', percent: 10 });
    assert.equal(written.at(-1), `\r\x1b[2K[##......................]  10%  reading table db.t`);
    advance(10_000);
    display.update({ stage: 'scoring candidate pairs', percent: 30 });
    // 20 points in 10 s: the 70 left take 35 s.
    assert.equal(written.at(-1), `\r\x1b[2K[#######.................]  30%  scoring candidate pairs  (ETA 35s)`);
    display.message('  SUCCEEDED');
    assert.deepEqual(written.slice(-2), ['\r\x1b[2K', '  SUCCEEDED\n'], 'the bar is cleared before a message');
  });

  it('elsewhere prints a line per stage, and within a stage at most one per interval', () => {
    const { display, written, advance } = fixture(false);
    display.update({ stage: 'reading', percent: 0 });
    advance(1000);
    display.update({ stage: 'reading', percent: 5 });
    display.update({ stage: 'matching', percent: 20 });
    advance(5000);
    display.update({ stage: 'matching', percent: 40 });
    advance(6000);
    display.update({ stage: 'matching', percent: 60 });
    assert.deepEqual(written, ['    0%  reading\n', '   20%  matching\n', '   60%  matching  (ETA 8s)\n']);
  });

  it('formats durations', () => {
    assert.deepEqual([formatDuration(400), formatDuration(59_000), formatDuration(125_000), formatDuration(7_260_000)], ['1s', '59s', '2m 05s', '2h 01m']);
  });
});
