import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addPhysicalMs,
  composeTs,
  isValidTs,
  logicalOf,
  MAX_LOGICAL,
  MAX_PHYSICAL_MS,
  MAX_TS,
  parseTs,
  physicalDiffMs,
  physicalMsOf,
  tsFromDate,
  tsToDate,
} from '../../../../shared/tso/index.js';
import { expectInvalid } from '../message/expect-invalid.js';

describe('hybrid timestamps', () => {
  it('composes physical << 18 | logical', () => {
    expect(composeTs(1_700_000_000_000, 3)).toBe((1_700_000_000_000n << 18n) | 3n);
    expect(composeTs(0n, 0)).toBe(0n);
    expect(composeTs(1n, 0)).toBe(262_144n);
    expect(composeTs(MAX_PHYSICAL_MS, MAX_LOGICAL)).toBe(MAX_TS);
  });

  it('round-trips compose/parse over the whole range', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_PHYSICAL_MS }), fc.integer({ min: 0, max: MAX_LOGICAL }), (physical, logical) => {
        const ts = composeTs(physical, logical);
        expect(isValidTs(ts)).toBe(true);
        expect(parseTs(ts)).toEqual({ physicalMs: physical, logical });
        expect(physicalMsOf(ts)).toBe(physical);
        expect(logicalOf(ts)).toBe(logical);
      }),
    );
  });

  it('orders timestamps by physical time first, then logical', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_PHYSICAL_MS - 1n }),
        fc.integer({ min: 0, max: MAX_LOGICAL }),
        fc.integer({ min: 0, max: MAX_LOGICAL }),
        (physical, a, b) => {
          expect(composeTs(physical, a) < composeTs(physical + 1n, b)).toBe(true);
        },
      ),
    );
  });

  it('rejects logical values outside 18 bits and bad physical values', () => {
    expectInvalid(() => composeTs(1, MAX_LOGICAL + 1), 'logical');
    expectInvalid(() => composeTs(1, -1), 'logical');
    expectInvalid(() => composeTs(1, 1.5), 'logical');
    expectInvalid(() => composeTs(-1, 0), 'physicalMs');
    expectInvalid(() => composeTs(MAX_PHYSICAL_MS + 1n, 0), 'physicalMs');
    expectInvalid(() => composeTs(Number.MAX_VALUE, 0), 'physicalMs');
    expectInvalid(() => parseTs(-1n), 'ts');
    expectInvalid(() => parseTs(MAX_TS + 1n), 'ts');
  });

  it('converts to and from dates', () => {
    const date = new Date('2026-01-02T03:04:05.678Z');
    const ts = tsFromDate(date, 9);
    expect(tsToDate(ts).getTime()).toBe(date.getTime());
    expect(logicalOf(ts)).toBe(9);
    expectInvalid(() => tsFromDate(new Date(Number.NaN)), 'date');
  });

  it('adds physical milliseconds, keeping the logical part and saturating at the maximum', () => {
    const ts = composeTs(1000, 7);
    expect(addPhysicalMs(ts, 500)).toBe(composeTs(1500, 7));
    expect(addPhysicalMs(ts, -1000n)).toBe(composeTs(0, 7));
    expect(addPhysicalMs(ts, 1n << 62n)).toBe(MAX_TS);
    expect(physicalDiffMs(composeTs(1500, 0), ts)).toBe(500n);
    expectInvalid(() => addPhysicalMs(ts, -1001), 'ms');
  });
});
