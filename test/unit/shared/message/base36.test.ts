import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeInt64,
  decodeUint64,
  encodeInt64,
  encodeUint64,
  isBase36Uint64,
  MAX_INT64,
  MAX_UINT64,
  MIN_INT64,
} from '../../../../shared/message/index.js';
import { expectInvalid } from './expect-invalid.js';

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A reference decoder, digit by digit, independent of the implementation's chunking. */
function referenceDecode(text: string): bigint {
  let value = 0n;
  for (const c of text.toLowerCase()) value = value * 36n + BigInt(BASE36.indexOf(c));
  return value;
}

describe('base-36 (Go strconv base 36)', () => {
  it('matches golden values of strconv.FormatUint/FormatInt', () => {
    expect(encodeUint64(0n)).toBe('0');
    expect(encodeUint64(35n)).toBe('z');
    expect(encodeUint64(36n)).toBe('10');
    expect(encodeUint64(12345n)).toBe('9ix');
    expect(encodeUint64(MAX_UINT64)).toBe('3w5e11264sgsf');
    expect(encodeInt64(MAX_INT64)).toBe('1y2p0ij32e8e7');
    expect(encodeInt64(MIN_INT64)).toBe('-1y2p0ij32e8e8');
    expect(encodeInt64(-1n)).toBe('-1');
    expect(decodeUint64('3w5e11264sgsf')).toBe(MAX_UINT64);
    expect(decodeInt64('-1y2p0ij32e8e8')).toBe(MIN_INT64);
  });

  it('round-trips every uint64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_UINT64 }), (v) => {
        const text = encodeUint64(v);
        expect(text).toMatch(/^[0-9a-z]+$/);
        expect(decodeUint64(text)).toBe(v);
        expect(referenceDecode(text)).toBe(v);
      }),
    );
  });

  it('round-trips every int64, with a sign for negatives', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MIN_INT64, max: MAX_INT64 }), (v) => {
        const text = encodeInt64(v);
        expect(text.startsWith('-')).toBe(v < 0n);
        expect(decodeInt64(text)).toBe(v);
      }),
    );
  });

  it('reads like Go: uppercase, leading zeros and a + sign (signed only) are accepted', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_UINT64 }), fc.nat({ max: 20 }), (v, zeros) => {
        const text = '0'.repeat(zeros) + encodeUint64(v).toUpperCase();
        expect(decodeUint64(text)).toBe(v);
      }),
    );
    expect(decodeInt64('+9ix')).toBe(12345n);
    expectInvalid(() => decodeUint64('+9ix', '_tt'), '_tt');
    expectInvalid(() => decodeUint64('-1', '_tt'), '_tt');
  });

  it('rejects empty input, lone signs and non base-36 characters, naming the field', () => {
    for (const bad of ['', '-', '+', ' 1', '1 ', '1_0', '1f!', '1.5', 'é', '--1', '+-1']) {
      expectInvalid(() => decodeInt64(bad, '_wt'), '_wt');
      expectInvalid(() => decodeUint64(bad, '_tt'), '_tt');
      expect(isBase36Uint64(bad)).toBe(false);
    }
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }).filter((s) => !/^[0-9a-zA-Z]+$/.test(s)),
        (bad) => {
          expectInvalid(() => decodeUint64(bad, '_btt'), '_btt');
        },
      ),
    );
  });

  it('rejects values beyond 64 bits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MAX_UINT64 + 1n, max: 1n << 200n }), (v) => {
        expectInvalid(() => decodeUint64(v.toString(36), '_tt'), '_tt');
        expectInvalid(() => decodeInt64(v.toString(36), '_wt'), '_wt');
      }),
    );
    expectInvalid(() => decodeInt64((MAX_INT64 + 1n).toString(36), '_wt'), '_wt');
    expectInvalid(() => decodeInt64((MIN_INT64 - 1n).toString(36), '_wt'), '_wt');
  });

  it('refuses to encode out-of-range values', () => {
    expectInvalid(() => encodeUint64(-1n, '_tt'), '_tt');
    expectInvalid(() => encodeUint64(MAX_UINT64 + 1n, '_tt'), '_tt');
    expectInvalid(() => encodeInt64(MAX_INT64 + 1n, '_wt'), '_wt');
    expectInvalid(() => encodeInt64(1 as unknown as bigint, '_wt'), '_wt');
  });
});
