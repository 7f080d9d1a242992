/**
 * The most recent durable messages of a pchannel, kept in memory so tailing scanners read new
 * messages without touching storage (the backend's small cousin of Milvus's write-ahead buffer).
 * Bounded by a message count and a byte budget; the oldest entries are evicted first.
 */
import type { ImmutableMessage } from '../../../shared/message/index.js';

/** A contiguous window `[firstOffset, endOffset)` of recent messages. */
export class TailCache {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly #items: (ImmutableMessage | undefined)[];
  readonly #sizes: Float64Array;
  readonly #mask: number;
  #head = 0;
  #count = 0;
  #bytes = 0;
  #first = 0n;

  /** `maxMessages` 0 disables the cache. */
  constructor(maxMessages: number, maxBytes: number) {
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
    let capacity = 1;
    while (capacity < maxMessages) capacity *= 2;
    this.#items = new Array<ImmutableMessage | undefined>(capacity);
    this.#sizes = new Float64Array(capacity);
    this.#mask = capacity - 1;
  }

  get firstOffset(): bigint {
    return this.#first;
  }
  get endOffset(): bigint {
    return this.#first + BigInt(this.#count);
  }
  get count(): number {
    return this.#count;
  }
  get bytes(): number {
    return this.#bytes;
  }

  /** Adds messages stored at `firstOffset, firstOffset + 1, …` with their sizes. */
  append(firstOffset: bigint, messages: readonly ImmutableMessage[], sizes: readonly number[]): void {
    if (this.maxMessages === 0 || messages.length === 0) return;
    // The cache must stay contiguous; a gap (never expected) restarts it.
    if (this.#count > 0 && firstOffset !== this.endOffset) this.clear();
    if (this.#count === 0) this.#first = firstOffset;
    for (let i = 0; i < messages.length; i++) {
      if (this.#count === this.maxMessages) this.#evictOne();
      const slot = (this.#head + this.#count) & this.#mask;
      const size = sizes[i] ?? 0;
      this.#items[slot] = messages[i];
      this.#sizes[slot] = size;
      this.#bytes += size;
      this.#count++;
    }
    while (this.#count > 0 && this.#bytes > this.maxBytes) this.#evictOne();
  }

  /** Up to `limit` messages from offset `from` on, or undefined if `from` is not in the window. */
  read(from: bigint, limit: number): ImmutableMessage[] | undefined {
    if (this.#count === 0 || from < this.#first) return undefined;
    const index = Number(from - this.#first);
    if (index >= this.#count) return undefined;
    const n = Math.min(limit, this.#count - index);
    const out = new Array<ImmutableMessage>(n);
    for (let i = 0; i < n; i++) out[i] = this.#items[(this.#head + index + i) & this.#mask] as ImmutableMessage;
    return out;
  }

  /** Evicts every message below `offset` (after a truncation). */
  dropBelow(offset: bigint): void {
    while (this.#count > 0 && this.#first < offset) this.#evictOne();
    if (this.#count === 0 && this.#first < offset) this.#first = offset;
  }

  clear(): void {
    while (this.#count > 0) this.#evictOne();
  }

  #evictOne(): void {
    const slot = this.#head;
    this.#bytes -= this.#sizes[slot] as number;
    this.#items[slot] = undefined;
    this.#head = (slot + 1) & this.#mask;
    this.#count--;
    this.#first++;
  }
}
