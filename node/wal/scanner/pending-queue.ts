/**
 * The queue between a WAL scanner's pump and its consumer (Milvus `pendingQueue`,
 * reference/milvus-node.md §4.2).
 */
import { Deferred, RingBuffer } from '../../../shared/util/index.js';

const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true });
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A bounded FIFO with one producer (the scanner's pump) and consumers calling {@link next}.
 *
 * Why not the shared `AsyncQueue`: the pump pushes every message a consumer receives, and a full
 * queue is the normal state while catching up. Here a push is a synchronous {@link offer}; when it
 * is refused the pump waits once for {@link room}, which opens when the consumers have taken the
 * queue down to half its capacity, instead of parking one promise and one abort listener per
 * message. Ending the queue wakes that wait too, so the pump needs no signal of its own.
 *
 * - `offer` hands the item to a waiting consumer or queues it; false (item not kept) when full or
 *   ended. At most `capacity` items are ever queued.
 * - `close()` ends iteration: queued items are dropped, waiting and later `next()` return done.
 * - `fail(error)` ends iteration with `error`: queued items are dropped, waiting and later
 *   `next()` reject with it.
 * - Only the first of `close()` / `fail()` has an effect; each returns whether it was the one.
 */
export class PendingQueue<T> {
  readonly capacity: number;
  readonly #lowWater: number;
  readonly #items: RingBuffer<T>;
  readonly #takers = new RingBuffer<Deferred<IteratorResult<T, undefined>>>();
  #room: Deferred<void> | undefined;
  #state: 'open' | 'closed' | 'failed' = 'open';
  #error: Error | undefined;

  /** @throws RangeError unless `capacity` is an integer ≥ 1. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`pending queue capacity must be an integer >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.#lowWater = Math.floor(capacity / 2);
    this.#items = new RingBuffer<T>(Math.min(capacity, 1024));
  }

  /** Items queued and not yet taken. */
  get size(): number {
    return this.#items.length;
  }

  /** True after `close()` or `fail()`. */
  get ended(): boolean {
    return this.#state !== 'open';
  }

  /** Gives `item` to a waiting consumer or queues it; false when full or ended (not kept). */
  offer(item: T): boolean {
    if (this.#state !== 'open') return false;
    const taker = this.#takers.shift();
    if (taker !== undefined) {
      taker.resolve({ value: item, done: false });
      return true;
    }
    if (this.#items.length >= this.capacity) return false;
    this.#items.push(item);
    return true;
  }

  /** Resolves once at most half the capacity is queued, or the queue ended. */
  room(): Promise<void> {
    if (this.#state !== 'open' || this.#items.length <= this.#lowWater) return RESOLVED;
    this.#room ??= new Deferred<void>();
    return this.#room.promise;
  }

  /** The next item, waiting for one; done after `close()`, rejects after `fail()`. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift() as T;
      if (this.#items.length <= this.#lowWater) this.#wakeProducer();
      return Promise.resolve({ value, done: false });
    }
    if (this.#state === 'failed') return Promise.reject(this.#error);
    if (this.#state === 'closed') return Promise.resolve(DONE);
    const taker = new Deferred<IteratorResult<T, undefined>>();
    this.#takers.push(taker);
    return taker.promise;
  }

  close(): boolean {
    if (this.#state !== 'open') return false;
    this.#state = 'closed';
    this.#end();
    for (let t = this.#takers.shift(); t !== undefined; t = this.#takers.shift()) t.resolve(DONE);
    return true;
  }

  fail(error: Error): boolean {
    if (this.#state !== 'open') return false;
    this.#state = 'failed';
    this.#error = error;
    this.#end();
    for (let t = this.#takers.shift(); t !== undefined; t = this.#takers.shift()) t.reject(error);
    return true;
  }

  #end(): void {
    this.#items.drain();
    this.#wakeProducer();
  }

  #wakeProducer(): void {
    const room = this.#room;
    if (room === undefined) return;
    this.#room = undefined;
    room.resolve();
  }
}
