/**
 * A cursor over the write-ahead buffer (Milvus `wab.WriteAheadBufferReader`).
 */
import type { ImmutableMessage } from '../../../shared/message/index.js';
import { raceAbort } from '../../../shared/util/index.js';
import { EvictedError } from './evicted-error.js';
import type { WriteAheadQueue } from './write-ahead-queue.js';

/** @internal What a reader sees of its buffer. */
export interface WriteAheadSource {
  readonly queue: WriteAheadQueue;
  /** The newest TimeTick appended, persisted or not. */
  lastTimeTickMessage(): ImmutableMessage;
  /** Set once the buffer is closed. */
  closedReason(): Error | undefined;
  /** Settles at the next append or at close. */
  changed(): Promise<void>;
}

/** Options of {@link WriteAheadBufferReader.next}. */
export interface WriteAheadReadOptions {
  readonly signal?: AbortSignal;
}

/**
 * Reads, in order and each exactly once, the persisted entries with a time tick greater than the
 * start tick, and in between, when it has caught up with the stored entries, the newest
 * not-persisted TimeTick if it is newer than anything it returned (so an idle tailing consumer
 * still sees time advance). Data time ticks strictly increase; TimeTick ticks never decrease.
 *
 * A reader holds no copy of the entries: once the buffer evicted the next entry the reader
 * would return, every later read throws {@link EvictedError}, and the scanner falls back to the
 * WAL. It never blocks the writer; {@link next} waits on a promise the writer settles.
 *
 * One consumer at a time: a `next()` still waiting takes the next message, so withdraw it (abort
 * its signal) before reading again.
 */
export class WriteAheadBufferReader {
  readonly #source: WriteAheadSource;
  /** Entries with a tick ≤ this are skipped (only matters when started ahead of the stored ones). */
  readonly #startTimeTick: bigint;
  #nextOffset: number;
  #lastTimeTick: bigint;

  /** @internal Created by `WriteAheadBuffer.readFromExclusiveTimeTick`. */
  constructor(source: WriteAheadSource, nextOffset: number, startTimeTick: bigint) {
    this.#source = source;
    this.#nextOffset = nextOffset;
    this.#startTimeTick = startTimeTick;
    this.#lastTimeTick = startTimeTick;
  }

  /** Time tick of the last message returned (the start tick before any). */
  get lastTimeTick(): bigint {
    return this.#lastTimeTick;
  }

  /**
   * The next message if one is available now, undefined if the reader must wait.
   *
   * @throws EvictedError if the next entry was evicted; the buffer's close reason (ON_SHUTDOWN)
   *   once it is closed.
   */
  tryNext(): ImmutableMessage | undefined {
    const closed = this.#source.closedReason();
    if (closed !== undefined) throw closed;
    const queue = this.#source.queue;
    if (this.#nextOffset < queue.firstOffset) {
      throw new EvictedError(`offset ${this.#nextOffset} (after time tick ${this.#lastTimeTick})`);
    }
    while (this.#nextOffset < queue.nextOffset) {
      const message = queue.at(this.#nextOffset);
      this.#nextOffset++;
      if (message === undefined) continue;
      const timeTick = message.timeTick;
      if (timeTick <= this.#startTimeTick) continue;
      this.#lastTimeTick = timeTick;
      return message;
    }
    // Caught up with the stored entries: a newer not-persisted tick is all there is to report.
    const tick = this.#source.lastTimeTickMessage();
    if (tick.timeTick > this.#lastTimeTick) {
      this.#lastTimeTick = tick.timeTick;
      return tick;
    }
    return undefined;
  }

  /**
   * Resolves with the next message, waiting for the writer if needed.
   *
   * @throws EvictedError, the close reason, or the abort reason of `signal`.
   */
  async next(options: WriteAheadReadOptions = {}): Promise<ImmutableMessage> {
    for (;;) {
      const message = this.tryNext();
      if (message !== undefined) return message;
      // Nothing can be appended between tryNext() and changed(): both run in this same turn.
      await raceAbort(this.#source.changed(), options.signal);
    }
  }
}
