/**
 * An async mutual-exclusion lock for critical sections that span `await`s (a catalog
 * read-modify-write, a WAL open racing a close). Waiters are served first-come first-served.
 */
import { abortReason } from './abort.js';
import { Deferred } from './deferred.js';
import { RingBuffer } from './ring-buffer.js';

interface Waiter {
  readonly granted: Deferred<() => void>;
  cancelled: boolean;
}

/**
 * FIFO async mutex.
 *
 * @example
 * ```ts
 * const lock = new Mutex();
 * await lock.runExclusive(async () => {
 *   const meta = await catalog.get(channel);
 *   await catalog.save({ ...meta, term: meta.term + 1n });
 * });
 * ```
 */
export class Mutex {
  readonly #waiters = new RingBuffer<Waiter>();
  #locked = false;

  /** True while someone holds the lock. */
  get isLocked(): boolean {
    return this.#locked;
  }

  /**
   * Waits for the lock and returns its release function (call it exactly once; later calls are
   * ignored). If `signal` aborts while waiting, rejects with the abort reason and the lock is
   * not taken.
   */
  acquire(options: { signal?: AbortSignal } = {}): Promise<() => void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve(this.#releaser());
    }
    const waiter: Waiter = { granted: new Deferred<() => void>(), cancelled: false };
    this.#waiters.push(waiter);
    if (signal) {
      const onAbort = (): void => {
        if (waiter.granted.settled) return;
        waiter.cancelled = true;
        waiter.granted.reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void waiter.granted.promise.then(
        () => signal.removeEventListener('abort', onAbort),
        () => undefined,
      );
    }
    return waiter.granted.promise;
  }

  /** Runs `fn` while holding the lock and releases it afterwards, also when `fn` throws. */
  async runExclusive<T>(fn: () => T | PromiseLike<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    const release = await this.acquire(options);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#handOver();
    };
  }

  /** Passes the lock straight to the next live waiter, so nobody can barge in between. */
  #handOver(): void {
    for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) {
      if (w.cancelled) continue;
      w.granted.resolve(this.#releaser());
      return;
    }
    this.#locked = false;
  }
}
