/**
 * The storage of the write-ahead buffer (Milvus `wab.pendingQueue`): persisted messages in time
 * tick order, each with a continuous offset, evicted from the front by age and size.
 */
import type { ImmutableMessage } from '../../../shared/message/index.js';
import { RingBuffer } from '../../../shared/util/index.js';

/**
 * When the entries of one pushed batch may be evicted for age: they share their push time, so
 * one mark per batch (not a record per message) is kept.
 */
interface BatchMark {
  /** The offset after the batch's last entry. */
  readonly end: number;
  /** Clock value (ms) after which the batch's entries may be evicted for age. */
  readonly expireAt: number;
}

/**
 * Invariants: offsets of the held entries are continuous; data messages have strictly increasing
 * time ticks, a TimeTick may repeat the tick of the data message before it; the queue is never
 * emptied by eviction (the last entry stays, see {@link evict}).
 *
 * Each entry is the message itself (its time tick and size are cached on it); ring buffers hold
 * them and the batch marks, so a push allocates nothing once the rings have grown.
 */
export class WriteAheadQueue {
  readonly #capacityBytes: number;
  readonly #keepaliveMs: number;
  /** The held entries, oldest first; the head has offset `#firstOffset`. */
  readonly #messages = new RingBuffer<ImmutableMessage>(1024);
  /** One per pushed batch with an entry still held, oldest first. */
  readonly #batches = new RingBuffer<BatchMark>();
  #firstOffset = 0;
  #bytes = 0;
  #lastTimeTick = 0n;

  constructor(capacityBytes: number, keepaliveMs: number) {
    this.#capacityBytes = capacityBytes;
    this.#keepaliveMs = keepaliveMs;
  }

  /** Number of held entries. */
  get length(): number {
    return this.#messages.length;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Offset of the oldest held entry (= {@link nextOffset} when empty). */
  get firstOffset(): number {
    return this.#firstOffset;
  }

  /**
   * Offset the next pushed entry will get. The first entry ever pushed has offset 0, then +1 per
   * entry, never reused.
   */
  get nextOffset(): number {
    return this.#firstOffset + this.#messages.length;
  }

  /** Time tick of the oldest held entry, undefined when empty. */
  get earliestTimeTick(): bigint | undefined {
    return this.#messages.peek()?.timeTick;
  }

  /** Time tick of the newest entry ever pushed (0 before any). */
  get lastTimeTick(): bigint {
    return this.#lastTimeTick;
  }

  /** The message at `offset`, undefined if evicted or not pushed yet. */
  at(offset: number): ImmutableMessage | undefined {
    return this.#messages.at(offset - this.#firstOffset);
  }

  /** Offset of the first held entry with a time tick > `timeTick` ({@link nextOffset} if none). */
  offsetAfterTimeTick(timeTick: bigint): number {
    let lo = 0;
    let hi = this.#messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#messages.at(mid) as ImmutableMessage).timeTick > timeTick) hi = mid;
      else lo = mid + 1;
    }
    return this.#firstOffset + lo;
  }

  /**
   * Appends one sync batch, `messages` then `timeTickMessage`, then evicts. The caller validated
   * the batch against the invariants above (`WriteAheadBuffer.append` does, before anything
   * changes, so a bad batch leaves the queue untouched): this runs for every appended message.
   */
  pushBatch(messages: readonly ImmutableMessage[], timeTickMessage: ImmutableMessage, now: number): void {
    for (let i = 0; i < messages.length; i++) this.#pushOne(messages[i] as ImmutableMessage);
    this.#pushOne(timeTickMessage);
    this.#batches.push({ end: this.nextOffset, expireAt: now + this.#keepaliveMs });
    this.evict(now);
  }

  #pushOne(message: ImmutableMessage): void {
    this.#messages.push(message);
    this.#bytes += message.estimateSize();
    this.#lastTimeTick = message.timeTick;
  }

  /**
   * Evicts from the front every entry older than the keepalive (`expireAt < now`) and, while the
   * held bytes exceed the capacity, more. The last entry is never evicted: it is the newest
   * persisted TimeTick, and a catch-up scanner needs some tick in the buffer to switch to tailing
   * (Milvus #41062: after an idle period everything had been evicted and scanners never switched).
   */
  evict(now: number): void {
    while (this.#messages.length > 1) {
      const batch = this.#batches.peek() as BatchMark;
      if (batch.expireAt >= now && this.#bytes <= this.#capacityBytes) break;
      this.#bytes -= (this.#messages.shift() as ImmutableMessage).estimateSize();
      this.#firstOffset++;
      if (batch.end <= this.#firstOffset) this.#batches.shift();
    }
  }

  /** Drops every entry (on close). Offsets keep counting. */
  clear(): void {
    this.#firstOffset = this.nextOffset;
    while (this.#messages.shift() !== undefined);
    while (this.#batches.shift() !== undefined);
    this.#bytes = 0;
  }
}
