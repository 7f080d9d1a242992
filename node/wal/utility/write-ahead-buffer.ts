/**
 * The in-memory tail of one WAL that tailing scanners read instead of the backend (Milvus
 * `wab.WriteAheadBuffer`, reference/milvus-node.md §4.4).
 */
import { StreamingError } from '../../../shared/errors/index.js';
import { type ImmutableMessage, MessageType } from '../../../shared/message/index.js';
import { Deferred } from '../../../shared/util/index.js';
import { EvictedError } from './evicted-error.js';
import { WriteAheadBufferReader, type WriteAheadSource } from './write-ahead-buffer-reader.js';
import { WriteAheadQueue } from './write-ahead-queue.js';

/** Options of {@link WriteAheadBuffer}. */
export interface WriteAheadBufferOptions {
  /** Bytes (estimated message sizes) kept before the oldest entries are evicted (Milvus: 64 MiB). */
  readonly capacityBytes: number;
  /** Age (ms) after which an entry is evicted at the next append (Milvus: 30 s). */
  readonly keepaliveMs: number;
  /** The persisted TimeTick appended when the WAL opened; the first entry of the buffer. */
  readonly firstTimeTickMessage: ImmutableMessage;
  /** Clock in ms, `Date.now` by default; tests pass a fake one. */
  readonly now?: () => number;
}

/**
 * Filled by the time tick sync operator, one batch per sync: the successful appends of the batch
 * (ascending time ticks) followed by the batch's TimeTick. It mirrors the WAL from the open
 * barrier on, in time tick order, so a scanner that caught up to a TimeTick can continue here
 * without reading the backend.
 *
 * - A persisted TimeTick is stored after its messages (also when the batch is empty), each entry
 *   getting the next offset. A not-persisted TimeTick is not stored: it only becomes
 *   {@link lastTimeTickMessage}, which readers at the end report, and triggers eviction.
 * - Eviction: entries older than `keepaliveMs`, then the oldest while over `capacityBytes`, never
 *   the last entry (a persisted TimeTick).
 * - {@link readFromExclusiveTimeTick}`(t)` returns a reader of everything with a tick > t:
 *   throws {@link EvictedError} if `t` is below the oldest stored tick (something > t may be gone);
 *   if `t` is at or beyond the newest stored tick the reader starts at the next offset, and its
 *   first read returns the newer not-persisted TimeTick if there is one, else waits.
 * - The writer never waits for readers; readers wait on a promise settled by each append.
 *
 * @example
 * ```ts
 * const wab = new WriteAheadBuffer({ capacityBytes: 64 << 20, keepaliveMs: 30_000, firstTimeTickMessage });
 * wab.append(details.successfulMessages(), timeTickMessage);          // the sync operator
 * const reader = wab.readFromExclusiveTimeTick(tickFromWal.timeTick); // a catch-up scanner switching over
 * for (;;) deliver(await reader.next({ signal }));                    // until isEvictedError(e)
 * ```
 */
export class WriteAheadBuffer {
  readonly #queue: WriteAheadQueue;
  readonly #now: () => number;
  readonly #source: WriteAheadSource;
  #lastTimeTickMessage: ImmutableMessage;
  #changed = new Deferred<void>();
  #closedReason: Error | undefined;

  constructor(options: WriteAheadBufferOptions) {
    const { capacityBytes, keepaliveMs, firstTimeTickMessage } = options;
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) {
      throw new RangeError(`capacityBytes must be a non-negative integer, got ${capacityBytes}`);
    }
    if (!Number.isSafeInteger(keepaliveMs) || keepaliveMs < 0) {
      throw new RangeError(`keepaliveMs must be a non-negative integer, got ${keepaliveMs}`);
    }
    assertTimeTick(firstTimeTickMessage);
    this.#now = options.now ?? Date.now;
    this.#queue = new WriteAheadQueue(capacityBytes, keepaliveMs);
    this.#queue.pushBatch([], firstTimeTickMessage, this.#now());
    this.#lastTimeTickMessage = firstTimeTickMessage;
    this.#source = {
      queue: this.#queue,
      lastTimeTickMessage: () => this.#lastTimeTickMessage,
      closedReason: () => this.#closedReason,
      changed: () => this.#changed.promise,
    };
  }

  /** The newest TimeTick appended, persisted or not. */
  get lastTimeTickMessage(): ImmutableMessage {
    return this.#lastTimeTickMessage;
  }

  /** Time tick of the oldest stored entry (undefined only after close). */
  get earliestTimeTick(): bigint | undefined {
    return this.#queue.earliestTimeTick;
  }

  /** Number of stored entries. */
  get length(): number {
    return this.#queue.length;
  }

  /** Estimated bytes stored. */
  get bytes(): number {
    return this.#queue.bytes;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.#closedReason !== undefined;
  }

  /**
   * Adds one sync batch: `messages` (persisted appends, ascending time ticks, all greater than
   * the previous TimeTick and ≤ `timeTickMessage`'s) and the batch's TimeTick. Ignored after close.
   *
   * @throws RangeError when the batch breaks those ordering rules, `timeTickMessage` is not a
   *   TimeTick newer than the last one, or a not-persisted TimeTick comes with messages. These are
   *   bugs of the caller; the buffer is left unchanged.
   */
  append(messages: readonly ImmutableMessage[], timeTickMessage: ImmutableMessage): void {
    if (this.#closedReason !== undefined) return;
    assertTimeTick(timeTickMessage);
    const tick = timeTickMessage.timeTick;
    const previous = this.#lastTimeTickMessage.timeTick;
    if (tick <= previous) throw new RangeError(`write-ahead buffer: time tick ${tick} is not after the last one ${previous}`);
    if (messages.length > 0 && timeTickMessage.notPersisted) {
      throw new RangeError('write-ahead buffer: messages must come with a persisted time tick');
    }
    // Validate the whole batch first so a bad one leaves the buffer untouched.
    let before = previous;
    for (const message of messages) {
      const tt = message.timeTick;
      if (tt <= before) throw new RangeError(`write-ahead buffer: message time tick ${tt} is not after ${before}`);
      before = tt;
    }
    if (before > tick) throw new RangeError(`write-ahead buffer: message time tick ${before} is after its time tick ${tick}`);
    const now = this.#now();
    if (timeTickMessage.notPersisted) this.#queue.evict(now);
    else this.#queue.pushBatch(messages, timeTickMessage, now);
    this.#lastTimeTickMessage = timeTickMessage;
    this.#notify();
  }

  /**
   * A reader of the entries with a time tick > `timeTick`; see the class contract.
   *
   * @throws EvictedError when entries after `timeTick` may have been evicted; ON_SHUTDOWN after close.
   */
  readFromExclusiveTimeTick(timeTick: bigint): WriteAheadBufferReader {
    if (this.#closedReason !== undefined) throw this.#closedReason;
    const queue = this.#queue;
    if (timeTick >= queue.lastTimeTick) {
      return new WriteAheadBufferReader(this.#source, queue.nextOffset, timeTick);
    }
    const earliest = queue.earliestTimeTick;
    if (earliest === undefined || timeTick < earliest) {
      throw new EvictedError(`time tick ${timeTick} (oldest held ${earliest ?? 'none'})`);
    }
    return new WriteAheadBufferReader(this.#source, queue.offsetAfterTimeTick(timeTick), timeTick);
  }

  /**
   * Drops every entry; readers' pending and later reads fail with ON_SHUTDOWN (or `reason`).
   * Idempotent.
   */
  close(reason?: Error): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = reason ?? StreamingError.onShutdown('write-ahead buffer is closed');
    this.#queue.clear();
    this.#notify();
  }

  #notify(): void {
    const changed = this.#changed;
    this.#changed = new Deferred<void>();
    changed.resolve();
  }
}

function assertTimeTick(message: ImmutableMessage): void {
  if (message.messageType !== MessageType.TimeTick) {
    throw new RangeError(`write-ahead buffer: expected a TimeTick message, got ${message.toString()}`);
  }
}
