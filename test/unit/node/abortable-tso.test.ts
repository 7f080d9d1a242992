import { describe, expect, it } from 'vitest';
import { abortableTso } from '../../../node/index.js';
import { LocalTsoAllocator, StreamingError, type TsoAllocator } from '../../../shared/index.js';

describe('abortableTso', () => {
  it('keeps the synchronous fast path of the allocator it wraps, and declines it once aborted', async () => {
    const stop = new AbortController();
    const tso = abortableTso(new LocalTsoAllocator(), stop.signal);
    const a = tso.tryAllocate?.(1);
    const b = await tso.allocate(1);
    const c = tso.tryAllocate?.(1);
    expect(a).toBeDefined();
    expect(b > a!).toBe(true);
    expect(c! > b).toBe(true);
    const reason = StreamingError.onShutdown('wal manager generation closed');
    stop.abort(reason);
    expect(tso.tryAllocate?.(1)).toBeUndefined();
    await expect(tso.allocate(1)).rejects.toBe(reason);
  });

  it('offers no fast path when the wrapped allocator has none, and ends a stuck allocation on abort', async () => {
    const stop = new AbortController();
    const stuck: TsoAllocator = { allocate: () => new Promise<bigint>(() => undefined) };
    const tso = abortableTso(stuck, stop.signal);
    expect(tso.tryAllocate).toBeUndefined();
    const pending = tso.allocate(1);
    const reason = new Error('closing');
    stop.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
