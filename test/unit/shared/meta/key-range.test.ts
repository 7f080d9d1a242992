import { describe, expect, it } from 'vitest';
import { hasPrefix, isUnbounded, prefixEnd, rangeStart } from '../../../../shared/meta/key-range.js';

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

describe('prefixEnd', () => {
  it('increments the last byte below 0xff and drops the rest, like etcd GetPrefixRangeEnd', () => {
    expect(prefixEnd(Buffer.from('a/'))).toEqual(Buffer.from('a0'));
    expect(prefixEnd(b(0x61, 0xff))).toEqual(b(0x62));
    expect(prefixEnd(b(0x61, 0xff, 0xff))).toEqual(b(0x62));
  });

  it('returns the unbounded marker for an empty or all-0xff prefix', () => {
    expect(isUnbounded(prefixEnd(Buffer.alloc(0)))).toBe(true);
    expect(isUnbounded(prefixEnd(b(0xff, 0xff)))).toBe(true);
    expect(isUnbounded(prefixEnd(Buffer.from('x')))).toBe(false);
  });

  it('does not modify its input', () => {
    const prefix = Buffer.from('ab');
    prefixEnd(prefix);
    expect(prefix.toString()).toBe('ab');
  });
});

describe('rangeStart', () => {
  it('starts just after startAfter when it lies inside the prefix, else at the prefix', () => {
    expect(rangeStart(Buffer.from('p/'), undefined)).toEqual(Buffer.from('p/'));
    expect(rangeStart(Buffer.from('p/'), 'p/k')).toEqual(Buffer.concat([Buffer.from('p/k'), b(0)]));
    expect(rangeStart(Buffer.from('p/'), 'a')).toEqual(Buffer.from('p/'));
  });
});

describe('hasPrefix', () => {
  it('compares bytes', () => {
    expect(hasPrefix(Buffer.from('p/x'), Buffer.from('p/'))).toBe(true);
    expect(hasPrefix(Buffer.from('p'), Buffer.from('p/'))).toBe(false);
    expect(hasPrefix(Buffer.from('q/x'), Buffer.alloc(0))).toBe(true);
  });
});
