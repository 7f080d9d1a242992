import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  dataKey,
  decodeHistory,
  decodeKv,
  encodeHistory,
  encodeKv,
  historyKey,
  keyOfDataKey,
  leaseIdOfKey,
  leaseKey,
  revisionOfHistoryKey,
  tombstone,
} from '../../../../shared/meta/level-codec.js';

describe('level codec', () => {
  it('round-trips key-value records, big lease ids included', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.uint8Array(),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        (key, value, c, m, v, lease) => {
          const kv = { key, value: Buffer.from(value), createRevision: c, modRevision: m, version: v, lease: lease.toString() };
          expect(decodeKv(key, encodeKv(kv))).toEqual(kv);
        },
      ),
    );
  });

  it('round-trips history records with and without previous state', () => {
    const put = { key: 'k', value: Buffer.from([0, 255]), createRevision: 2, modRevision: 5, version: 3, lease: '12' };
    const events = [
      { type: 'put' as const, kv: put, prev: { ...put, modRevision: 4, version: 2 } },
      { type: 'delete' as const, kv: tombstone('d', 5), prev: undefined },
    ];
    expect(decodeHistory(encodeHistory(events))).toEqual(events);
  });

  it('orders history keys numerically and maps keys both ways', () => {
    expect(Buffer.compare(historyKey(255), historyKey(256))).toBeLessThan(0);
    expect(revisionOfHistoryKey(historyKey(123456789))).toBe(123456789);
    expect(keyOfDataKey(dataKey('a/ключ'))).toBe('a/ключ');
    expect(leaseIdOfKey(leaseKey('9223372036854775807'))).toBe('9223372036854775807');
  });
});
