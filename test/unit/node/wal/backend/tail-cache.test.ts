import { describe, expect, it } from 'vitest';
import { TailCache } from '../../../../../node/wal/backend/tail-cache.js';
import { ImmutableMessage, MessageId } from '../../../../../shared/message/index.js';

const at = (offset: number): ImmutableMessage => ImmutableMessage.create(MessageId.of(offset), Buffer.from(String(offset)), {});
const range = (from: number, n: number): ImmutableMessage[] => Array.from({ length: n }, (_, i) => at(from + i));
const offsets = (ms: readonly ImmutableMessage[] | undefined): number[] | undefined => ms?.map((m) => Number(m.messageId.offset));

describe('TailCache', () => {
  it('serves reads inside its window and nothing outside', () => {
    const cache = new TailCache(8, 1 << 20);
    cache.append(10n, range(10, 5), [1, 1, 1, 1, 1]);
    expect(offsets(cache.read(10n, 100))).toEqual([10, 11, 12, 13, 14]);
    expect(offsets(cache.read(12n, 2))).toEqual([12, 13]);
    expect(cache.read(9n, 10)).toBeUndefined();
    expect(cache.read(15n, 10)).toBeUndefined();
    expect([cache.firstOffset, cache.endOffset]).toEqual([10n, 15n]);
  });

  it('evicts the oldest messages beyond the message count', () => {
    const cache = new TailCache(4, 1 << 20);
    cache.append(1n, range(1, 3), [1, 1, 1]);
    cache.append(4n, range(4, 3), [1, 1, 1]);
    expect(offsets(cache.read(3n, 10))).toEqual([3, 4, 5, 6]);
    expect(cache.read(2n, 10)).toBeUndefined();
    expect(cache.count).toBe(4);
  });

  it('evicts the oldest messages beyond the byte budget, even a single oversized one', () => {
    const cache = new TailCache(100, 10);
    cache.append(1n, range(1, 3), [4, 4, 4]);
    expect(cache.read(1n, 10)).toBeUndefined();
    expect(offsets(cache.read(2n, 10))).toEqual([2, 3]);
    expect(cache.bytes).toBe(8);
    cache.append(4n, [at(4)], [50]);
    expect(cache.count).toBe(0);
    expect(cache.bytes).toBe(0);
    cache.append(5n, [at(5)], [1]);
    expect(offsets(cache.read(5n, 10))).toEqual([5]);
  });

  it('drops messages below a truncation point and restarts on a gap', () => {
    const cache = new TailCache(8, 1 << 20);
    cache.append(1n, range(1, 5), [1, 1, 1, 1, 1]);
    cache.dropBelow(3n);
    expect(offsets(cache.read(3n, 10))).toEqual([3, 4, 5]);
    expect(cache.read(2n, 10)).toBeUndefined();
    cache.append(9n, range(9, 2), [1, 1]);
    expect(offsets(cache.read(9n, 10))).toEqual([9, 10]);
    expect(cache.read(3n, 10)).toBeUndefined();
  });

  it('holds nothing when disabled', () => {
    const cache = new TailCache(0, 1 << 20);
    cache.append(1n, range(1, 3), [1, 1, 1]);
    expect(cache.read(1n, 10)).toBeUndefined();
  });
});
