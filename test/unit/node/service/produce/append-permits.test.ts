/** The in-flight bound of a producer stream: weighted, FIFO, abortable. */
import { describe, expect, it } from 'vitest';
import { AppendPermits } from '../../../../../node/service/produce/index.js';
import { StreamingError } from '../../../../../shared/index.js';

const never = new AbortController().signal;

describe('AppendPermits', () => {
  it('grants up to the capacity at once, then waits for releases', async () => {
    const permits = new AppendPermits(3);
    await permits.acquire(2, never);
    await permits.acquire(1, never);
    expect(permits.inUse).toBe(3);
    let granted = false;
    const waiting = permits.acquire(1, never).then(() => (granted = true));
    await Promise.resolve();
    expect(granted).toBe(false);
    permits.release(1);
    await waiting;
    expect(permits.inUse).toBe(3);
  });

  it('serves waiters in arrival order: a big one is not overtaken by small ones', async () => {
    const permits = new AppendPermits(4);
    await permits.acquire(3, never);
    const order: string[] = [];
    const big = permits.acquire(4, never).then(() => order.push('big'));
    const small = permits.acquire(1, never).then(() => order.push('small'));
    await Promise.resolve();
    expect(order).toEqual([]); // one permit is free, but the big waiter is first in line
    permits.release(3);
    await big;
    permits.release(4);
    await small;
    expect(order).toEqual(['big', 'small']);
  });

  it('an aborted waiter leaves the line (with the abort reason) and lets the next through', async () => {
    const permits = new AppendPermits(2);
    await permits.acquire(1, never);
    const abort = new AbortController();
    const big = permits.acquire(2, abort.signal);
    const small = permits.acquire(1, never);
    abort.abort(StreamingError.onShutdown('stop'));
    await expect(big).rejects.toThrow('stop');
    await small;
    expect(permits.inUse).toBe(2);
    expect(permits.waiting).toBe(0);
  });

  it('refuses counts outside [1, capacity] and an already aborted signal', async () => {
    const permits = new AppendPermits(2);
    await expect(permits.acquire(3, never)).rejects.toBeInstanceOf(RangeError);
    await expect(permits.acquire(0, never)).rejects.toBeInstanceOf(RangeError);
    await expect(permits.acquire(1, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(() => new AppendPermits(0)).toThrow(RangeError);
  });
});
