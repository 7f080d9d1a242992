import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../../../../shared/meta/batch-queue.js';

describe('BatchQueue', () => {
  it('delivers in order, then done after end()', async () => {
    const q = new BatchQueue<number>();
    q.push(1);
    q.push(2);
    q.end();
    q.push(3);
    expect(await q.take(false)).toEqual({ item: 1 });
    expect(await q.take(true)).toEqual({ item: 2 });
    expect(await q.take(true)).toEqual({ done: true });
  });

  it('a waiting take wakes on push; a poke wakes it without an item', async () => {
    const q = new BatchQueue<string>();
    expect(await q.take(false)).toBeUndefined();
    const waiting = q.take(true);
    q.push('x');
    expect(await waiting).toEqual({ item: 'x' });
    const poked = q.take(true);
    q.poke();
    expect(await poked).toBeUndefined();
  });

  it('end(error) makes takes reject after the buffered items; clear() drops items; peek() looks', async () => {
    const q = new BatchQueue<number>();
    q.push(1);
    q.push(2);
    expect(q.peek()).toBe(1);
    expect(q.size).toBe(2);
    q.clear();
    expect(q.size).toBe(0);
    q.push(3);
    q.end(new Error('gone'));
    expect(await q.take(true)).toEqual({ item: 3 });
    await expect(q.take(true)).rejects.toThrow('gone');
  });

  it('stays correct across many items (internal compaction of the buffer)', async () => {
    const q = new BatchQueue<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    const out: number[] = [];
    for (let r = await q.take(false); r !== undefined && 'item' in r; r = await q.take(false)) out.push(r.item);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(q.size).toBe(0);
  });
});
