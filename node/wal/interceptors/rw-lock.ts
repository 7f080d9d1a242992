/**
 * Async reader-writer locks for the lock interceptor (Go's `sync.RWMutex` and Milvus
 * `lock.KeyLock`), which hold them across the `await`s of an append.
 */
import { abortReason, Deferred, RingBuffer } from '../../../shared/index.js';

/** Releases a granted lock; calling it more than once does nothing. */
export type Release = () => void;

/** Options of the acquire methods. */
export interface LockOptions {
  /** Gives up waiting: the acquire rejects with the abort reason and the lock is not taken. */
  readonly signal?: AbortSignal | undefined;
}

interface Waiter {
  readonly kind: 'read' | 'write';
  readonly granted: Deferred<Release>;
  cancelled: boolean;
}

/**
 * A fair reader-writer lock: waiters are served in arrival order, consecutive readers together.
 * A waiting writer therefore blocks readers that arrive after it (no writer starvation under a
 * steady stream of readers), like Go's `RWMutex`.
 *
 * @example
 * ```ts
 * const release = await lock.acquireWrite({ signal });
 * try { await work(); } finally { release(); }
 * ```
 */
export class RwLock {
  readonly #waiters = new RingBuffer<Waiter>();
  #readers = 0;
  #writer = false;

  /** Readers holding the lock. */
  get readers(): number {
    return this.#readers;
  }

  /** True while a writer holds the lock. */
  get isWriteLocked(): boolean {
    return this.#writer;
  }

  /** True when nobody holds the lock and nobody waits for it. */
  get isIdle(): boolean {
    return this.#readers === 0 && !this.#writer && this.#waiters.length === 0;
  }

  /** Shared access: granted once no writer holds or waits ahead. */
  acquireRead(options: LockOptions = {}): Promise<Release> {
    return this.#acquire('read', options.signal);
  }

  /** Exclusive access: granted once every earlier holder released. */
  acquireWrite(options: LockOptions = {}): Promise<Release> {
    return this.#acquire('write', options.signal);
  }

  /**
   * Shared access without waiting: granted exactly when {@link acquireRead} would grant it at
   * once (no writer holds the lock, nobody waits), else false and nothing changes. Saves the
   * waiter, its promise and the release closure on the uncontended path (the lock interceptor's
   * per-append path), so the caller pairs every `true` with exactly one {@link unlockRead}.
   */
  tryLockRead(): boolean {
    if (this.#writer || this.#waiters.length > 0) return false;
    this.#readers++;
    return true;
  }

  /** Releases one read taken by {@link tryLockRead}. Unguarded: call it exactly once per read. */
  unlockRead(): void {
    this.#readers--;
    this.#drain();
  }

  #acquire(kind: Waiter['kind'], signal: AbortSignal | undefined): Promise<Release> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const waiter: Waiter = { kind, granted: new Deferred<Release>(), cancelled: false };
    this.#waiters.push(waiter);
    this.#drain();
    if (signal !== undefined && !waiter.granted.settled) {
      const onAbort = (): void => {
        if (waiter.granted.settled) return;
        waiter.cancelled = true;
        waiter.granted.reject(abortReason(signal));
        // A cancelled writer at the head may have been holding back readers behind it.
        this.#drain();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void waiter.granted.promise.then(
        () => signal.removeEventListener('abort', onAbort),
        () => undefined,
      );
    }
    return waiter.granted.promise;
  }

  /** Grants the head of the queue while it is compatible with the current holders. */
  #drain(): void {
    for (let head = this.#waiters.peek(); head !== undefined; head = this.#waiters.peek()) {
      if (head.cancelled) {
        this.#waiters.shift();
        continue;
      }
      if (this.#writer) return;
      if (head.kind === 'write') {
        if (this.#readers > 0) return;
        this.#waiters.shift();
        this.#writer = true;
        head.granted.resolve(this.#releaser('write'));
        return;
      }
      this.#waiters.shift();
      this.#readers++;
      head.granted.resolve(this.#releaser('read'));
    }
  }

  #releaser(kind: Waiter['kind']): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (kind === 'write') this.#writer = false;
      else this.#readers--;
      this.#drain();
    };
  }
}

/**
 * One {@link RwLock} per key, created on first use and dropped once idle, so a WAL with many
 * vchannels keeps only the locks in use.
 */
export class KeyedRwLock {
  readonly #locks = new Map<string, { readonly lock: RwLock; users: number }>();

  /** Number of keys with a lock in use (held or waited for). */
  get size(): number {
    return this.#locks.size;
  }

  /** Shared access to `key`. */
  acquireRead(key: string, options: LockOptions = {}): Promise<Release> {
    return this.#acquire(key, (lock) => lock.acquireRead(options));
  }

  /** Exclusive access to `key`. */
  acquireWrite(key: string, options: LockOptions = {}): Promise<Release> {
    return this.#acquire(key, (lock) => lock.acquireWrite(options));
  }

  /**
   * Shared access to `key` without waiting ({@link RwLock.tryLockRead}): false if it would wait.
   * Pair every `true` with one {@link unlockRead}.
   */
  tryLockRead(key: string): boolean {
    const entry = this.#entry(key);
    // Refused only when the lock is held or awaited, so the entry has users and stays.
    if (!entry.lock.tryLockRead()) return false;
    entry.users++;
    return true;
  }

  /** Releases one read taken by {@link tryLockRead}. Unguarded: call it exactly once per read. */
  unlockRead(key: string): void {
    const entry = this.#locks.get(key);
    if (entry === undefined) throw new Error(`read lock of ${JSON.stringify(key)} released but not held`);
    entry.lock.unlockRead();
    this.#leave(key, entry);
  }

  async #acquire(key: string, take: (lock: RwLock) => Promise<Release>): Promise<Release> {
    const entry = this.#entry(key);
    entry.users++;
    let release: Release;
    try {
      release = await take(entry.lock);
    } catch (error) {
      this.#leave(key, entry);
      throw error;
    }
    return this.#releaser(key, entry, release);
  }

  #releaser(key: string, entry: { users: number }, release: Release): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      this.#leave(key, entry);
    };
  }

  #leave(key: string, entry: { users: number }): void {
    entry.users--;
    if (entry.users === 0) this.#locks.delete(key);
  }

  #entry(key: string): { readonly lock: RwLock; users: number } {
    let entry = this.#locks.get(key);
    if (entry === undefined) {
      entry = { lock: new RwLock(), users: 0 };
      this.#locks.set(key, entry);
    }
    return entry;
  }
}
