import { describe, expect, it } from 'vitest';
import { Mutex } from '../../../../shared/util/index.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Mutex', () => {
  it('runs critical sections one at a time, in arrival order', async () => {
    const lock = new Mutex();
    const events: string[] = [];
    let inside = 0;
    const section = (name: string) =>
      lock.runExclusive(async () => {
        inside++;
        expect(inside).toBe(1);
        events.push(`${name}:in`);
        await settle();
        events.push(`${name}:out`);
        inside--;
        return name;
      });
    const results = await Promise.all([section('a'), section('b'), section('c')]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['a:in', 'a:out', 'b:in', 'b:out', 'c:in', 'c:out']);
    expect(lock.isLocked).toBe(false);
  });

  it('releases the lock when the section throws', async () => {
    const lock = new Mutex();
    await expect(lock.runExclusive(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lock.isLocked).toBe(false);
    await expect(lock.runExclusive(() => 42)).resolves.toBe(42);
  });

  it('an aborted waiter never gets the lock and does not block the next one', async () => {
    const lock = new Mutex();
    const release = await lock.acquire();
    const ac = new AbortController();
    const aborted = lock.acquire({ signal: ac.signal });
    const next = lock.acquire();
    ac.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    release();
    release(); // a second call is ignored
    const releaseNext = await next;
    expect(lock.isLocked).toBe(true);
    releaseNext();
    expect(lock.isLocked).toBe(false);
  });
});
