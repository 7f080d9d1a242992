/**
 * A bounded async FIFO between producers and a consumer on the data path (scanner → consume
 * stream, produce stream → WAL). Every operation is O(1): both the items and the blocked
 * producers sit in ring buffers.
 */
import { StreamingError } from '../errors/index.js';
import { abortReason } from './abort.js';
import { Deferred } from './deferred.js';
import { RingBuffer } from './ring-buffer.js';

/** `open`: accepts pushes. `closed`: no more pushes, buffered items still drain. `failed`: ended
 *  by an error, nothing more is delivered. */
export type AsyncQueueState = 'open' | 'closed' | 'failed';

/** Options of {@link AsyncQueue}. */
export interface AsyncQueueOptions {
  /** Most items buffered before `push` waits (backpressure). Integer `>= 1`. */
  readonly capacity: number;
}

interface PendingPush<T> {
  readonly item: T;
  readonly done: Deferred<void>;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
  cancelled: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Bounded async queue. Semantics, precisely:
 *
 * - **Order**: items come out in the order they were accepted. A `push` that had to wait is
 *   accepted when space frees up, in the order the waiting pushes were called.
 * - **push(item, {signal})**: resolves once the item is accepted (immediately when there is room
 *   or a consumer is waiting, else when space frees: backpressure). If `signal` aborts while
 *   waiting, the item is *not* enqueued and the push rejects with the abort reason.
 * - **tryPush(item)**: accepts and returns `true` when there is room now, returns `false` when
 *   full (the item is not kept).
 * - **Ended queue**: `push` rejects and `tryPush` throws: after `close()` with an ON_SHUTDOWN
 *   StreamingError, after `fail(error)` with that `error`.
 * - **close()**: stops accepting; pushes still waiting are rejected (their items were never
 *   accepted). Buffered items are still delivered; then `next()` returns `{done: true}` forever.
 * - **fail(error)**: ends the queue at once: buffered items are dropped, waiting pushes reject
 *   with `error`, and every `next()` (pending or later) rejects with `error`.
 * - Only the first of `close()`/`fail()` has an effect; each returns whether it was the one.
 * - **Consumption**: `next()` or `for await`. Several consumers may call `next()` concurrently;
 *   each item goes to exactly one of them, in call order. Leaving a `for await` early (its
 *   iterator's `return()`) closes the queue and drops whatever is still buffered, so producers
 *   blocked in `push` learn that nobody is listening (ON_SHUTDOWN).
 *
 * @example
 * ```ts
 * const queue = new AsyncQueue<Message>({ capacity: 64 });
 * void (async () => { for (const m of batch) await queue.push(m, { signal }); queue.close(); })();
 * for await (const m of queue) await send(m);
 * ```
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  readonly #buffer: RingBuffer<T>;
  readonly #pushers = new RingBuffer<PendingPush<T>>();
  readonly #takers = new RingBuffer<Deferred<IteratorResult<T, undefined>>>();
  #livePushers = 0;
  #state: AsyncQueueState = 'open';
  #endError: Error | undefined;

  constructor(options: AsyncQueueOptions) {
    const { capacity } = options;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`AsyncQueue capacity must be an integer >= 1, got ${String(capacity)}`);
    }
    this.capacity = capacity;
    this.#buffer = new RingBuffer<T>(Math.min(capacity, 1024));
  }

  get state(): AsyncQueueState {
    return this.#state;
  }
  /** Items buffered and not yet taken. */
  get size(): number {
    return this.#buffer.length;
  }
  /** Pushes waiting for room. */
  get pendingPushes(): number {
    return this.#livePushers;
  }
  /** Consumers waiting in `next()` for an item. */
  get waitingConsumers(): number {
    return this.#takers.length;
  }

  /** Enqueues `item`, waiting for room when full. See the class docs for the exact semantics. */
  push(item: T, options: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    if (this.#state !== 'open') return Promise.reject(this.#endError);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.#offer(item)) return RESOLVED;

    const done = new Deferred<void>();
    const pending: PendingPush<T> = {
      item,
      done,
      signal,
      cancelled: false,
      onAbort: signal
        ? () => {
            if (pending.cancelled || done.settled) return;
            // Tombstone rather than remove: removal from the middle of a ring is O(n), and
            // #refill/#rejectPushers skip cancelled entries anyway.
            pending.cancelled = true;
            this.#livePushers--;
            done.reject(abortReason(signal));
          }
        : undefined,
    };
    if (signal && pending.onAbort) signal.addEventListener('abort', pending.onAbort, { once: true });
    this.#pushers.push(pending);
    this.#livePushers++;
    return done.promise;
  }

  /** Enqueues `item` if there is room now; `false` when full. Throws on an ended queue. */
  tryPush(item: T): boolean {
    if (this.#state !== 'open') throw this.#endError;
    return this.#offer(item);
  }

  /** Takes the next item; waits when empty. `{done: true}` after close + drain; rejects after fail. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift() as T;
      this.#refill();
      return Promise.resolve({ value, done: false });
    }
    if (this.#state === 'failed') return Promise.reject(this.#endError);
    if (this.#state === 'closed') return Promise.resolve({ value: undefined, done: true });
    const taker = new Deferred<IteratorResult<T, undefined>>();
    this.#takers.push(taker);
    return taker.promise;
  }

  /** Stops accepting items; buffered ones still drain. Returns `false` if already ended. */
  close(): boolean {
    if (this.#state !== 'open') return false;
    this.#state = 'closed';
    this.#endError = StreamingError.onShutdown('async queue is closed');
    this.#rejectPushers(this.#endError);
    // Takers only wait when the buffer is empty, so nothing is left for them.
    for (let t = this.#takers.shift(); t; t = this.#takers.shift()) t.resolve({ value: undefined, done: true });
    return true;
  }

  /** Ends the queue with `error` right away, dropping buffered items. Returns `false` if already ended. */
  fail(error: Error): boolean {
    if (this.#state !== 'open') return false;
    this.#state = 'failed';
    this.#endError = error;
    this.#buffer.drain();
    this.#rejectPushers(error);
    for (let t = this.#takers.shift(); t; t = this.#takers.shift()) t.reject(error);
    return true;
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => this.next(),
      return: () => {
        this.#abandon();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** The consumer left: close, and drop what nobody will read. */
  #abandon(): void {
    if (this.#state === 'open') {
      this.#state = 'closed';
      this.#endError = StreamingError.onShutdown('async queue consumer stopped reading');
      this.#rejectPushers(this.#endError);
      for (let t = this.#takers.shift(); t; t = this.#takers.shift()) t.resolve({ value: undefined, done: true });
    }
    if (this.#state === 'closed') this.#buffer.drain();
  }

  /** Hands `item` to a waiting consumer or buffers it; `false` when full. Caller checked state. */
  #offer(item: T): boolean {
    const taker = this.#takers.shift();
    if (taker) {
      taker.resolve({ value: item, done: false });
      return true;
    }
    // Waiting pushers imply a full buffer, so this also keeps FIFO order among producers.
    if (this.#buffer.length < this.capacity) {
      this.#buffer.push(item);
      return true;
    }
    return false;
  }

  /** After a take: move the oldest live waiting push into the freed slot. */
  #refill(): void {
    while (this.#livePushers > 0) {
      const pending = this.#pushers.shift() as PendingPush<T>;
      if (pending.cancelled) continue;
      this.#livePushers--;
      pending.signal?.removeEventListener('abort', pending.onAbort as () => void);
      this.#buffer.push(pending.item);
      pending.done.resolve();
      return;
    }
    // Only tombstones (or nothing) remain: drop them so they are not retained.
    if (this.#pushers.length > 0) this.#pushers.drain();
  }

  #rejectPushers(error: Error): void {
    for (const pending of this.#pushers.drain()) {
      if (pending.cancelled) continue;
      pending.signal?.removeEventListener('abort', pending.onAbort as () => void);
      pending.done.reject(error);
    }
    this.#livePushers = 0;
  }
}
