/**
 * Calls that must not interleave within this process, by key: each call with a key starts once
 * every earlier call with that key has settled. A check-then-write over several awaits (count the
 * runs, then insert one) is atomic this way for one process; the chains of settled keys are dropped.
 */
export class OneAtATime {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
