import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../../../shared/util/index.js';

describe('RingBuffer', () => {
  it('behaves like an array used as a FIFO, across growth and wrap-around', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 200 }), (ops) => {
        const ring = new RingBuffer<number>(4);
        const model: number[] = [];
        for (const op of ops) {
          if (op === null) expect(ring.shift()).toBe(model.shift());
          else {
            ring.push(op);
            model.push(op);
          }
          expect(ring.length).toBe(model.length);
          expect(ring.peek()).toBe(model[0]);
          for (let i = -1; i <= model.length; i++) expect(ring.at(i)).toBe(model[i]);
        }
        expect([...ring]).toEqual(model);
        expect(ring.drain()).toEqual(model);
        expect(ring.length).toBe(0);
      }),
    );
  });

  it('returns undefined when empty', () => {
    const ring = new RingBuffer<string>();
    expect(ring.shift()).toBeUndefined();
    expect(ring.peek()).toBeUndefined();
    expect(ring.at(0)).toBeUndefined();
  });
});
