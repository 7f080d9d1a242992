import { describe, expect, it } from 'vitest';
import { KeyedRwLock, RwLock } from '../../../../../node/wal/interceptors/index.js';
import { StreamingError } from '../../../../../shared/errors/index.js';
import { isSettled } from './fixtures.js';

describe('RwLock', () => {
  it('lets readers share and keeps writers exclusive', async () => {
    const lock = new RwLock();
    const r1 = await lock.acquireRead();
    const r2 = await lock.acquireRead();
    expect(lock.readers).toBe(2);
    const w = lock.acquireWrite();
    expect(await isSettled(w)).toBe(false);
    r1();
    expect(await isSettled(w)).toBe(false);
    r2();
    const releaseW = await w;
    expect(lock.isWriteLocked).toBe(true);
    const r3 = lock.acquireRead();
    expect(await isSettled(r3)).toBe(false);
    releaseW();
    (await r3)();
    expect(lock.isIdle).toBe(true);
  });

  it('serves waiters in arrival order: a waiting writer holds back later readers', async () => {
    const lock = new RwLock();
    const order: string[] = [];
    const r1 = await lock.acquireRead();
    const w = lock.acquireWrite().then((release) => {
      order.push('w');
      return release;
    });
    const r2 = lock.acquireRead().then((release) => {
      order.push('r2');
      return release;
    });
    expect(await isSettled(r2)).toBe(false);
    r1();
    (await w)();
    (await r2)();
    expect(order).toEqual(['w', 'r2']);
  });

  it('releases are idempotent', async () => {
    const lock = new RwLock();
    const r = await lock.acquireRead();
    r();
    r();
    expect(lock.readers).toBe(0);
    const w = await lock.acquireWrite();
    w();
    w();
    expect(lock.isIdle).toBe(true);
  });

  it('tryLockRead grants a read only when acquireRead would grant it at once', async () => {
    const lock = new RwLock();
    expect(lock.tryLockRead()).toBe(true);
    expect(lock.readers).toBe(1);
    const w = lock.acquireWrite();
    // A writer waits: later readers, with or without waiting, queue behind it.
    expect(lock.tryLockRead()).toBe(false);
    expect(lock.readers).toBe(1);
    expect(await isSettled(w)).toBe(false);
    lock.unlockRead();
    const releaseW = await w;
    expect(lock.tryLockRead()).toBe(false);
    releaseW();
    expect(lock.tryLockRead()).toBe(true);
    lock.unlockRead();
    expect(lock.isIdle).toBe(true);
  });

  it('an aborted waiter gives up without taking the lock and unblocks the readers behind it', async () => {
    const lock = new RwLock();
    const r1 = await lock.acquireRead();
    const ac = new AbortController();
    const w = lock.acquireWrite({ signal: ac.signal });
    const r2 = lock.acquireRead();
    expect(await isSettled(r2)).toBe(false);
    ac.abort(StreamingError.onShutdown('gave up'));
    await expect(w).rejects.toThrow('gave up');
    (await r2)();
    r1();
    expect(lock.isIdle).toBe(true);
    await expect(lock.acquireRead({ signal: ac.signal })).rejects.toThrow('gave up');
  });
});

describe('KeyedRwLock', () => {
  it('locks per key and forgets idle keys', async () => {
    const locks = new KeyedRwLock();
    const a = await locks.acquireWrite('a');
    const b = await locks.acquireWrite('b');
    expect(locks.size).toBe(2);
    const a2 = locks.acquireRead('a');
    expect(await isSettled(a2)).toBe(false);
    a();
    (await a2)();
    b();
    expect(locks.size).toBe(0);
  });

  it('tryLockRead / unlockRead share a key with waiting readers and writers, and forget it when idle', async () => {
    const locks = new KeyedRwLock();
    expect(locks.tryLockRead('k')).toBe(true);
    expect(locks.tryLockRead('k')).toBe(true);
    expect(locks.size).toBe(1);
    const w = locks.acquireWrite('k');
    expect(locks.tryLockRead('k')).toBe(false);
    locks.unlockRead('k');
    expect(await isSettled(w)).toBe(false);
    locks.unlockRead('k');
    (await w)();
    expect(locks.size).toBe(0);
    expect(locks.tryLockRead('other')).toBe(true);
    locks.unlockRead('other');
    expect(locks.size).toBe(0);
    expect(() => locks.unlockRead('other')).toThrow(/not held/);
  });

  it('forgets a key whose only waiter aborted', async () => {
    const locks = new KeyedRwLock();
    const held = await locks.acquireWrite('k');
    const ac = new AbortController();
    const waiting = locks.acquireWrite('k', { signal: ac.signal });
    ac.abort(new Error('no'));
    await expect(waiting).rejects.toThrow('no');
    held();
    expect(locks.size).toBe(0);
  });
});
