/**
 * Preloaded into a node under test (`--import` in NODE_OPTIONS, which its task processes inherit)
 * to set its wall clock DOPPEL_TEST_CLOCK_SKEW_MS off, as on a machine whose clock is wrong:
 * Date.now() and new Date() are shifted; timers and performance.now() do not follow the wall clock.
 */
const skewMs = Number(process.env['DOPPEL_TEST_CLOCK_SKEW_MS'] ?? 0);
const RealDate = Date;

class SkewedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + skewMs);
    else super(...(args as [number]));
  }

  static override now(): number {
    return RealDate.now() + skewMs;
  }
}

globalThis.Date = SkewedDate as DateConstructor;

export {};
