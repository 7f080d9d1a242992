import { describe, expect, it } from 'vitest';
import { stringifyBigints } from '../../../../shared/log/index.js';

describe('stringifyBigints', () => {
  it('returns the same object when there is nothing to convert', () => {
    const value = { a: 1, b: [2, { c: 'x' }] };
    expect(stringifyBigints(value)).toBe(value);
  });

  it('copies only what changed and never mutates the input', () => {
    const shared = { untouched: true };
    const value = { a: 1n, shared, nested: { b: [3n] } };
    const out = stringifyBigints(value) as unknown as Record<string, unknown>;
    expect(out).toEqual({ a: '1', shared, nested: { b: ['3'] } });
    expect(out['shared']).toBe(shared);
    expect(value.a).toBe(1n);
  });

  it('leaves errors and class instances alone and survives cycles', () => {
    const err = new Error('x');
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic['self'] = cyclic;
    const out = stringifyBigints({ err, cyclic }) as { err: Error; cyclic: Record<string, unknown> };
    expect(out.err).toBe(err);
    expect(out.cyclic['n']).toBe('1');
  });
});
