/**
 * The storage of the write-ahead buffer (Milvus `wab.pendingQueue`): persisted messages in time
 * tick order, each with a continuous offset, evicted from the front by age and size.
 */
import type { ImmutableMessage } from '../../../shared/message/index.js';

/** One stored message and its position. */
export interface WriteAheadEntry {
  readonly message: ImmutableMessage;
  readonly timeTick: bigint;
  /** Position in the buffer: the first entry ever pushed is 0, then +1 per entry, never reused. */
  readonly offset: number;
  /** Clock value (ms) after which the entry may be evicted for age. */
  readonly expireAt: number;
  readonly size: number;
}

/** Compact the backing array once this many evicted slots sit before the head. */
const COMPACT_AFTER = 1024;

/**
 * Invariants: offsets of the held entries are continuous; data messages have strictly increasing
 * time ticks, a TimeTick may repeat the tick of the data message before it; the queue is never
 * emptied by eviction (the last entry stays, see {@link evict}).
 */
export class WriteAheadQueue {
  readonly #capacityBytes: number;
  readonly #keepaliveMs: number;
  /** Slots before `#head` are evicted and cleared (undefined) so their messages can be collected. */
  #entries: (WriteAheadEntry | undefined)[] = [];
  #head = 0;
  #nextOffset = 0;
  #bytes = 0;
  #lastTimeTick = 0n;

  constructor(capacityBytes: number, keepaliveMs: number) {
    this.#capacityBytes = capacityBytes;
    this.#keepaliveMs = keepaliveMs;
  }

  /** Number of held entries. */
  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Offset of the oldest held entry (= {@link nextOffset} when empty). */
  get firstOffset(): number {
    return this.#entries[this.#head]?.offset ?? this.#nextOffset;
  }

  /** Offset the next pushed entry will get. */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  /** Time tick of the oldest held entry, undefined when empty. */
  get earliestTimeTick(): bigint | undefined {
    return this.#entries[this.#head]?.timeTick;
  }

  /** Time tick of the newest entry ever pushed (0 before any). */
  get lastTimeTick(): bigint {
    return this.#lastTimeTick;
  }

  /** The entry at `offset`, undefined if evicted or not pushed yet. */
  at(offset: number): WriteAheadEntry | undefined {
    const first = this.firstOffset;
    if (offset < first) return undefined;
    return this.#entries[this.#head + (offset - first)];
  }

  /** Offset of the first held entry with a time tick > `timeTick` ({@link nextOffset} if none). */
  offsetAfterTimeTick(timeTick: bigint): number {
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#entries[mid] as WriteAheadEntry).timeTick > timeTick) hi = mid;
      else lo = mid + 1;
    }
    return this.firstOffset + (lo - this.#head);
  }

  /**
   * Appends one sync batch, `messages` then `timeTickMessage`, then evicts. The caller validated
   * the batch against the invariants above (`WriteAheadBuffer.append` does, before anything
   * changes, so a bad batch leaves the queue untouched): this runs for every appended message.
   */
  pushBatch(messages: readonly ImmutableMessage[], timeTickMessage: ImmutableMessage, now: number): void {
    const expireAt = now + this.#keepaliveMs;
    for (const message of messages) this.#pushOne(message, expireAt);
    this.#pushOne(timeTickMessage, expireAt);
    this.evict(now);
  }

  #pushOne(message: ImmutableMessage, expireAt: number): void {
    const timeTick = message.timeTick;
    const size = message.estimateSize();
    this.#entries.push({ message, timeTick, offset: this.#nextOffset++, expireAt, size });
    this.#bytes += size;
    this.#lastTimeTick = timeTick;
  }

  /**
   * Evicts from the front every entry older than the keepalive (`expireAt < now`) and, while the
   * held bytes exceed the capacity, more. The last entry is never evicted: it is the newest
   * persisted TimeTick, and a catch-up scanner needs some tick in the buffer to switch to tailing
   * (Milvus #41062: after an idle period everything had been evicted and scanners never switched).
   */
  evict(now: number): void {
    while (this.length > 1) {
      const entry = this.#entries[this.#head] as WriteAheadEntry;
      if (entry.expireAt >= now && this.#bytes <= this.#capacityBytes) break;
      this.#bytes -= entry.size;
      this.#entries[this.#head] = undefined;
      this.#head++;
    }
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#entries.length) {
      // Shrink the array of cleared slots; amortised O(1) per entry.
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Drops every entry (on close). Offsets keep counting. */
  clear(): void {
    this.#entries = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
