/** Request bodies held in memory: the shared budget and reading within it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyBudgetExhausted, BodyIdleTimeout, BodyTooLarge, BufferedBodyBudget, readBufferedBody, withBodyIdleTimeout } from '../../src/api/request-body.js';

/** A streamed request whose body arrives in `pieces` (with a Content-Length when `declare`). */
function requestOf(pieces: Buffer[], declare: boolean): Request {
  const length = pieces.reduce((n, p) => n + p.length, 0);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(new Uint8Array(piece));
      controller.close();
    },
  });
  return new Request('http://localhost/', {
    method: 'POST',
    body,
    headers: declare ? { 'content-length': String(length) } : {},
    duplex: 'half',
  } as RequestInit);
}

describe('BufferedBodyBudget', () => {
  it('takes while there is room, always takes a lone body, and gets its bytes back', () => {
    const budget = new BufferedBodyBudget(100);
    assert.equal(budget.tryTake(500), true, 'nothing else held: a lone body is taken whatever its size');
    assert.equal(budget.tryTake(1), false);
    budget.give(500);
    assert.equal(budget.tryTake(60), true);
    assert.equal(budget.tryTake(40), true);
    assert.equal(budget.tryTake(1), false);
    budget.give(40);
    assert.equal(budget.tryTake(40), true);
    budget.give(100);
    assert.equal(budget.tryTake(80), true);
    assert.equal(budget.tryTake(80, 80), true, 'a body that is the only one held may grow past the limit');
    assert.equal(budget.tryTake(1, 80), false, 'not when another body is held too');
  });
});

describe('readBufferedBody', () => {
  it('reads a body with and without Content-Length, holding its bytes until released', async () => {
    for (const declare of [true, false]) {
      const budget = new BufferedBodyBudget(10);
      const body = await readBufferedBody(requestOf([Buffer.from('hello '), Buffer.from('world')], declare), { maxBytes: 100, budget });
      assert.equal(Buffer.from(body.bytes).toString(), 'hello world');
      assert.equal(budget.tryTake(1), false, 'the 11 bytes are held');
      body.release();
      assert.equal(budget.tryTake(10), true, 'and given back');
    }
  });

  it('refuses a declared body that does not fit before reading it, and one that stops fitting as it arrives', async () => {
    const budget = new BufferedBodyBudget(10);
    assert.equal(budget.tryTake(5), true);
    const declared = requestOf([Buffer.alloc(8)], true);
    await assert.rejects(readBufferedBody(declared, { maxBytes: 100, budget }), (e) => e instanceof BodyBudgetExhausted && !e.connectionLost);
    assert.equal(declared.bodyUsed, false, 'not a byte was read');
    await assert.rejects(
      readBufferedBody(requestOf([Buffer.alloc(3), Buffer.alloc(3)], false), { maxBytes: 100, budget }),
      (e) => e instanceof BodyBudgetExhausted && !e.connectionLost,
    );
    assert.equal(budget.tryTake(5), true, 'a refused body gives back what it took');
  });

  it('reads a body past its limit to the end (up to 16 times the limit) and refuses it', async () => {
    const budget = new BufferedBodyBudget(1000);
    await assert.rejects(
      readBufferedBody(requestOf([Buffer.alloc(10), Buffer.alloc(10)], false), { maxBytes: 15, budget }),
      (e) => e instanceof BodyTooLarge && !e.connectionLost,
    );
    await assert.rejects(
      readBufferedBody(requestOf([Buffer.alloc(10), Buffer.alloc(300)], false), { maxBytes: 15, budget }),
      (e) => e instanceof BodyTooLarge && e.connectionLost,
    );
    assert.equal(budget.tryTake(1000), true, 'nothing is left held');
  });
});

/** A streamed request whose pieces arrive `gapsMs[i]` ms apart (the first after gapsMs[0]). */
function slowRequest(pieces: Buffer[], gapsMs: number[]): Request {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i === pieces.length) return controller.close();
      await new Promise((r) => setTimeout(r, gapsMs[i]));
      controller.enqueue(new Uint8Array(pieces[i++]!));
    },
  });
  return new Request('http://localhost/', { method: 'POST', body, duplex: 'half' } as RequestInit);
}

describe('readBufferedBody charges bytes as they arrive', () => {
  it('a declared body holds only what has arrived of it, and all of it once read', async () => {
    const budget = new BufferedBodyBudget(10);
    const request = new Request('http://localhost/', {
      method: 'POST',
      body: slowRequest([Buffer.alloc(4), Buffer.alloc(4)], [0, 100]).body,
      headers: { 'content-length': '8' },
      duplex: 'half',
    } as RequestInit);
    const reading = readBufferedBody(request, { maxBytes: 100, budget });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(budget.hasRoomFor(6), true, 'the 4 bytes arrived are held, not the 8 declared');
    assert.equal(budget.hasRoomFor(7), false);
    const body = await reading;
    assert.equal(budget.hasRoomFor(3), false, 'all 8 held once read');
    body.release();
    assert.equal(budget.peak, 8);
  });
});

describe('withBodyIdleTimeout', () => {
  it('fails the body with BodyIdleTimeout when the next bytes take longer than the timeout', async () => {
    const request = withBodyIdleTimeout(slowRequest([Buffer.from('a'), Buffer.from('b')], [0, 300]), 100);
    const reader = request.body!.getReader();
    assert.equal(Buffer.from((await reader.read()).value!).toString(), 'a');
    await assert.rejects(reader.read(), (e) => e instanceof BodyIdleTimeout && e.connectionLost && e.idleMs === 100);
  });

  it('lets a body through that is slow in all but never idle for the timeout', async () => {
    const pieces = Array.from({ length: 6 }, (_, i) => Buffer.from(String(i)));
    const request = withBodyIdleTimeout(slowRequest(pieces, pieces.map(() => 60)), 150);
    const body = await readBufferedBody(request, { maxBytes: 100, budget: new BufferedBodyBudget(100) });
    assert.equal(Buffer.from(body.bytes).toString(), '012345');
  });

  it('leaves requests without a body as they are', () => {
    const get = new Request('http://localhost/', { method: 'GET' });
    assert.equal(withBodyIdleTimeout(get, 100), get);
  });
});
