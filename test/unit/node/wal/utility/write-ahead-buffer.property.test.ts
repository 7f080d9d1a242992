/**
 * Model-based property of the write-ahead buffer: under any mix of persisted batches, trivial
 * ticks, clock moves (age eviction), a small capacity (size eviction) and readers created at any
 * time tick and read at any pace, every reader returns exactly the stored entries after its start,
 * in order and once each, interleaved only with newer trivial ticks, or it stops with "evicted".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ImmutableMessage } from '../../../../../shared/message/index.js';
import { isEvictedError, WriteAheadBuffer, type WriteAheadBufferReader } from '../../../../../node/wal/utility/index.js';
import { insert, tick } from './fixtures.js';

type Op =
  | { readonly op: 'batch'; readonly gaps: readonly number[] }
  | { readonly op: 'trivial'; readonly gap: number }
  | { readonly op: 'clock'; readonly ms: number }
  | { readonly op: 'open'; readonly back: number }
  | { readonly op: 'read'; readonly pick: number; readonly steps: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('batch' as const), gaps: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 6 }) }),
  fc.record({ op: fc.constant('trivial' as const), gap: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ op: fc.constant('clock' as const), ms: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ op: fc.constant('open' as const), back: fc.integer({ min: -5, max: 60 }) }), // negative: ahead of the writer
  fc.record({ op: fc.constant('read' as const), pick: fc.nat(100), steps: fc.integer({ min: 1, max: 20 }) }),
);

interface ReaderModel {
  readonly reader: WriteAheadBufferReader;
  /** Every stored entry with a tick > the start, in order; grows as batches arrive. */
  readonly start: bigint;
  matched: number;
  lastTick: bigint;
  evicted: boolean;
}

describe('WriteAheadBuffer property', () => {
  it('readers see every entry after their start exactly once, in order, or get evicted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1500 }),
        fc.array(opArb, { minLength: 10, maxLength: 120, size: 'max' }),
        (capacityBytes, ops) => {
          let now = 0;
          let nextId = 1;
          let tt = 10n;
          const stored: ImmutableMessage[] = [tick(nextId++, tt)];
          const wab = new WriteAheadBuffer({ capacityBytes, keepaliveMs: 50, firstTimeTickMessage: stored[0] as ImmutableMessage, now: () => now });
          const readers: ReaderModel[] = [];

          const step = (r: ReaderModel): boolean => {
            let m: ImmutableMessage | undefined;
            try {
              m = r.reader.tryNext();
            } catch (e) {
              expect(isEvictedError(e)).toBe(true);
              r.evicted = true;
              return false;
            }
            if (m === undefined) return false;
            if (m.notPersisted) {
              expect(m.timeTick).toBeGreaterThan(r.lastTick);
            } else {
              // The next stored entry after the start that this reader has not returned yet.
              const expected = stored.filter((s) => s.timeTick > r.start)[r.matched];
              expect(m).toBe(expected);
              r.matched++;
            }
            r.lastTick = m.timeTick;
            return true;
          };

          for (const o of ops) {
            switch (o.op) {
              case 'batch': {
                const batch = o.gaps.map((gap) => insert(nextId++, (tt += BigInt(gap))));
                if (batch.length === 0) tt += 1n; // a tick alone must still be newer
                const closing = tick(nextId++, tt);
                wab.append(batch, closing);
                stored.push(...batch, closing);
                break;
              }
              case 'trivial':
                tt += BigInt(o.gap);
                wab.append([], tick(nextId++, tt, false));
                break;
              case 'clock':
                now += o.ms;
                break;
              case 'open': {
                const start = tt - BigInt(o.back) > 0n ? tt - BigInt(o.back) : 0n;
                try {
                  readers.push({ reader: wab.readFromExclusiveTimeTick(start), start, matched: 0, lastTick: start, evicted: false });
                } catch (e) {
                  expect(isEvictedError(e)).toBe(true);
                  // Only when something after the start is really gone.
                  expect(start).toBeLessThan(wab.earliestTimeTick as bigint);
                }
                break;
              }
              case 'read': {
                const r = readers[o.pick % Math.max(readers.length, 1)];
                for (let i = 0; r !== undefined && !r.evicted && i < o.steps && step(r); i++);
              }
            }
          }

          // Drain: a reader not evicted has returned every stored entry after its start.
          for (const r of readers) {
            while (!r.evicted && step(r));
            if (r.evicted) {
              expect(() => r.reader.tryNext()).toThrow();
            } else {
              expect(r.matched).toBe(stored.filter((s) => s.timeTick > r.start).length);
            }
          }
          expect(wab.length).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
