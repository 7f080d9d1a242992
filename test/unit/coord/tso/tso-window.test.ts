/**
 * The persisted TSO window: value layout, corrupt values, and the compare-and-swap outcomes
 * (claimed, conflict, extended, ours-after-a-lost-response, lost to another owner, deleted).
 */
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import { TsoWindowStore, decodeTsoWindow, encodeTsoWindow } from '../../../../coord/tso/index.js';
import { useTsoStore } from './tso-test-store.js';

const KEY = 'w/streamingcoord-meta/tso';
const store = useTsoStore();

describe('TSO window value', () => {
  it('is the end in ms as a big-endian uint64, then the owner id', () => {
    const w = encodeTsoWindow(1_700_000_003_000n, 'coord-7/abc');
    expect(w.bytes.readBigUInt64BE(0)).toBe(1_700_000_003_000n);
    expect(w.bytes.subarray(8).toString('utf8')).toBe('coord-7/abc');
    expect(decodeTsoWindow(KEY, w.bytes)).toEqual(w);
  });

  it('a short or out-of-range value is UNRECOVERABLE naming the key', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.alloc(8, 0xff)]) {
      let error: unknown;
      try {
        decodeTsoWindow(KEY, bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: StreamingCode.UNRECOVERABLE });
      expect((error as Error).message).toContain(KEY);
    }
  });
});

describe('TsoWindowStore', () => {
  it('claims an empty key, and a claim over a stale previous value is refused', async () => {
    const a = new TsoWindowStore(store().kv, KEY, 'a');
    const b = new TsoWindowStore(store().kv, KEY, 'b');
    expect(await a.load()).toBeUndefined();
    const claimed = await a.claim(undefined, 100n);
    expect(claimed?.endMs).toBe(100n);
    expect(await b.claim(undefined, 200n)).toBeUndefined();
    expect((await b.claim(await b.load(), 200n))?.owner).toBe('b');
    expect(await a.extend(claimed!, 300n)).toEqual({ kind: 'lost', current: expect.objectContaining({ owner: 'b', endMs: 200n }) });
  });

  it('extends its own window, adopts its own value after a lost response, and notices a deleted key', async () => {
    const a = new TsoWindowStore(store().kv, KEY, 'a');
    const w1 = (await a.claim(undefined, 100n))!;
    const extended = await a.extend(w1, 150n);
    expect(extended).toMatchObject({ kind: 'extended', window: { endMs: 150n } });
    // The store holds 150 (ours) while we still believe 100: ours, so adopted.
    expect(await a.extend(w1, 180n)).toMatchObject({ kind: 'extended', window: { endMs: 150n, owner: 'a' } });
    await store().raw.delete(KEY);
    expect(await a.extend(w1, 200n)).toEqual({ kind: 'lost', current: undefined });
  });
});
