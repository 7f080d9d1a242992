import { describe, expect, it } from 'vitest';
import { PendingQueue } from '../../../../../node/wal/scanner/pending-queue.js';
import { isSettled } from '../utility/fixtures.js';

describe('PendingQueue', () => {
  it('refuses a bad capacity', () => {
    expect(() => new PendingQueue(0)).toThrow(RangeError);
    expect(() => new PendingQueue(1.5)).toThrow(RangeError);
  });

  it('queues at most its capacity, in order, and refuses the rest without keeping it', async () => {
    const queue = new PendingQueue<number>(3);
    expect([1, 2, 3, 4].map((n) => queue.offer(n))).toEqual([true, true, true, false]);
    expect(queue.size).toBe(3);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    expect(queue.offer(5)).toBe(true);
    const values = [];
    for (let i = 0; i < 3; i++) values.push((await queue.next()).value);
    expect(values).toEqual([2, 3, 5]);
  });

  it('hands an offer straight to a waiting consumer', async () => {
    const queue = new PendingQueue<number>(1);
    const waiting = queue.next();
    expect(await isSettled(waiting)).toBe(false);
    expect(queue.offer(7)).toBe(true);
    expect(queue.size).toBe(0);
    expect(await waiting).toEqual({ value: 7, done: false });
  });

  it('opens room only once the consumer took the queue down to half', async () => {
    const queue = new PendingQueue<number>(4);
    for (let i = 0; i < 4; i++) queue.offer(i);
    const room = queue.room();
    await queue.next();
    expect(await isSettled(room)).toBe(false); // 3 left
    await queue.next();
    expect(await isSettled(room)).toBe(true); // 2 left = half
    expect(await isSettled(queue.room())).toBe(true);
  });

  it('close(): drops what is queued, ends waiting and later next() with done, and wakes the producer', async () => {
    const queue = new PendingQueue<number>(2);
    queue.offer(1);
    queue.offer(2);
    const room = queue.room();
    expect(queue.close()).toBe(true);
    expect(queue.close()).toBe(false);
    expect(queue.ended).toBe(true);
    expect(await isSettled(room)).toBe(true);
    expect(queue.size).toBe(0);
    expect(queue.offer(3)).toBe(false);
    expect(await queue.next()).toEqual({ value: undefined, done: true });

    const idle = new PendingQueue<number>(2);
    const waiting = idle.next();
    idle.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('fail(): drops what is queued and rejects waiting and later next() with the error', async () => {
    const queue = new PendingQueue<number>(2);
    const waiting = queue.next();
    const error = new Error('boom');
    expect(queue.fail(error)).toBe(true);
    expect(queue.close()).toBe(false);
    await expect(waiting).rejects.toBe(error);
    await expect(queue.next()).rejects.toBe(error);
    expect(queue.offer(1)).toBe(false);

    const full = new PendingQueue<number>(1);
    full.offer(1);
    const room = full.room();
    full.fail(error);
    expect(await isSettled(room)).toBe(true);
    await expect(full.next()).rejects.toBe(error);
  });
});
