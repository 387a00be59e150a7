import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { ProgressReporter, type ProgressPoint } from '../../src/tasks/progress-reporter.js';

describe('task progress reporting', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('writes a new stage at once, within a stage at most twice a second and the last report in the end', () => {
    const writes: ProgressPoint[] = [];
    const stages: ProgressPoint[] = [];
    const reporter = new ProgressReporter((p) => writes.push(p), (p) => stages.push(p), 500);
    reporter.report('reading', 0);
    reporter.report('reading', 0.1);
    reporter.report('matching', 0.2);
    for (let i = 1; i <= 10; i++) {
      mock.timers.tick(100);
      reporter.report('matching', 0.2 + i / 20);
    }
    mock.timers.tick(1000);
    assert.deepEqual(
      writes.map((p) => `${p.stage} ${p.percent}`),
      ['reading 0', 'matching 20', 'matching 40', 'matching 65', 'matching 70'],
    );
    assert.deepEqual(stages.map((p) => `${p.stage} ${p.percent}`), ['reading 0', 'matching 20']);
  });

  it('never lets Percent go back, and keeps it for a stage reported without a fraction', () => {
    const writes: ProgressPoint[] = [];
    const reporter = new ProgressReporter((p) => writes.push(p), () => undefined, 500);
    reporter.report('a', 0.5);
    reporter.report('b', 0.3);
    reporter.report('c');
    assert.deepEqual(writes.map((p) => p.percent), [50, 50, 50]);
  });

  it('stops writing once closed', () => {
    const writes: ProgressPoint[] = [];
    const reporter = new ProgressReporter((p) => writes.push(p), () => undefined, 500);
    reporter.report('a', 0.1);
    reporter.report('a', 0.2);
    reporter.close();
    mock.timers.tick(1000);
    assert.deepEqual(writes.map((p) => p.percent), [10]);
  });
});
