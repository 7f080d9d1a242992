import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { composeTs, LocalTsoAllocator, LOGICAL_COUNT, MAX_LOGICAL, parseTs } from '../../../../shared/tso/index.js';
import { expectInvalid, expectInvalidAsync } from '../message/expect-invalid.js';

describe('LocalTsoAllocator', () => {
  it('uses the clock for the physical part and counts logically within a millisecond', async () => {
    const now = 1_700_000_000_000;
    const tso = new LocalTsoAllocator({ now: () => now });
    expect(await tso.allocate()).toBe(composeTs(now, 0));
    expect(await tso.allocate()).toBe(composeTs(now, 1));
    expect(await tso.allocate(10)).toBe(composeTs(now, 2));
    expect(await tso.allocate()).toBe(composeTs(now, 12));
    expect(tso.lastAllocated()).toBe(composeTs(now, 12));
  });

  it('tryAllocate always answers, in one sequence with allocate', async () => {
    let now = 2_000;
    const tso = new LocalTsoAllocator({ now: () => now });
    expect(tso.tryAllocate()).toBe(composeTs(2_000, 0));
    expect(await tso.allocate()).toBe(composeTs(2_000, 1));
    expect(tso.tryAllocate(3)).toBe(composeTs(2_000, 2));
    now = 2_001;
    expect(tso.tryAllocate()).toBe(composeTs(2_001, 0));
    expect(tso.lastAllocated()).toBe(composeTs(2_001, 0));
    expectInvalid(() => tso.tryAllocate(0), 'count');
  });

  it('never goes back when the clock does', async () => {
    let now = 5_000;
    const tso = new LocalTsoAllocator({ now: () => now });
    const first = await tso.allocate();
    now = 1_000;
    const second = await tso.allocate();
    expect(second > first).toBe(true);
    expect(parseTs(second).physicalMs).toBe(5_000n);
  });

  it('moves the physical part forward when the logical counter would overflow', () => {
    const tso = new LocalTsoAllocator({ now: () => 10 });
    expect(tso.allocateSync(LOGICAL_COUNT - 1)).toBe(composeTs(10, 0));
    // One value left in ms 10: a batch of 2 must not straddle two milliseconds.
    expect(tso.allocateSync(2)).toBe(composeTs(11, 0));
    expect(tso.allocateSync(LOGICAL_COUNT)).toBe(composeTs(12, 0));
    expect(tso.allocateSync()).toBe(composeTs(13, 0));
  });

  it('starts strictly after the given floor', () => {
    const floor = composeTs(1_000_000, MAX_LOGICAL);
    const tso = new LocalTsoAllocator({ now: () => 10, after: floor });
    expect(tso.allocateSync()).toBe(composeTs(1_000_001, 0));
    const tso2 = new LocalTsoAllocator({ now: () => 10, after: composeTs(500, 4) });
    expect(tso2.allocateSync()).toBe(composeTs(500, 5));
  });

  it('ignores a broken clock', () => {
    const tso = new LocalTsoAllocator({ now: () => Number.NaN, after: composeTs(42, 0) });
    expect(tso.allocateSync()).toBe(composeTs(42, 1));
  });

  it('rejects bad counts', async () => {
    const tso = new LocalTsoAllocator();
    expectInvalid(() => tso.allocateSync(0), 'count');
    expectInvalid(() => tso.allocateSync(LOGICAL_COUNT + 1), 'count');
    await expectInvalidAsync(tso.allocate(1.5), 'count');
  });

  it('hands out disjoint, strictly increasing ranges under concurrent callers and a jumpy clock', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 200 }),
        fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 200 }),
        async (clockSteps, counts) => {
          let clock = 1_000;
          let step = 0;
          const tso = new LocalTsoAllocator({
            now: () => {
              clock = Math.max(0, clock + (clockSteps[step++ % clockSteps.length] ?? 0));
              return clock;
            },
          });
          const firsts = await Promise.all(counts.map((count) => tso.allocate(count)));
          for (let i = 1; i < firsts.length; i++) {
            const previousEnd = (firsts[i - 1] as bigint) + BigInt(counts[i - 1] as number) - 1n;
            expect(firsts[i] as bigint).toBeGreaterThan(previousEnd);
          }
          // Each range stays within one millisecond.
          firsts.forEach((first, i) => {
            const last = first + BigInt(counts[i] as number) - 1n;
            expect(parseTs(last).physicalMs).toBe(parseTs(first).physicalMs);
          });
        },
      ),
    );
  });
});
