/**
 * HybridCounter, the in-memory half of the TSO: monotonic under any clock, batches inside one
 * millisecond, and never a timestamp at or past the limit it is given.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOGICAL_COUNT, composeTs, parseTs } from '../../../../shared/tso/index.js';
import { HybridCounter } from '../../../../coord/tso/hybrid-counter.js';

describe('HybridCounter', () => {
  it('follows the clock, continues the logical counter within a millisecond, and starts at the floor', () => {
    let now = 1_000;
    const counter = new HybridCounter(() => now);
    counter.reset(1_005n);
    expect(counter.lastTaken()).toBeUndefined();
    expect(counter.take(3, 2_000n)).toBe(composeTs(1_005, 0));
    expect(counter.take(1, 2_000n)).toBe(composeTs(1_005, 3));
    expect(counter.lastTaken()).toBe(composeTs(1_005, 3));
    now = 1_500;
    expect(counter.take(1, 2_000n)).toBe(composeTs(1_500, 0));
    expect(counter.take(1, 1_500n)).toBeUndefined();
    expect(counter.lastTaken()).toBe(composeTs(1_500, 0));
  });

  it('any clock and any batch sizes: strictly increasing, disjoint, in one ms each, below the limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: 1, max: LOGICAL_COUNT })), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 40 }),
        (steps, limitAhead) => {
          let now = 10_000;
          const counter = new HybridCounter(() => now);
          counter.reset(10_000n);
          const limit = BigInt(10_000 + limitAhead);
          let lastEnd = -1n;
          for (const [jump, count] of steps) {
            now += jump;
            const ts = counter.take(count, limit);
            if (ts === undefined) continue;
            const { physicalMs, logical } = parseTs(ts);
            expect(physicalMs).toBeLessThan(limit);
            expect(logical + count).toBeLessThanOrEqual(LOGICAL_COUNT);
            expect(ts).toBeGreaterThan(lastEnd);
            lastEnd = ts + BigInt(count) - 1n;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
