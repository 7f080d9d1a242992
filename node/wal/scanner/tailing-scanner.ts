/**
 * Tailing mode (Milvus `tailingScanner`): reads the write-ahead buffer, the in-memory tail of a
 * read-write WAL, until the buffer evicted what the reader needs next.
 */
import { deliverStartFrom, type ImmutableMessage } from '../../../shared/message/index.js';
import { isEvictedError, type WriteAheadBufferReader } from '../utility/index.js';
import type { ModeScanner, ModeScannerContext, ScanStep } from './mode-scanner.js';

/**
 * Forwards what the buffer reader returns (persisted messages in time tick order, each batch
 * followed by its TimeTick, and the newest not-persisted TimeTick when caught up).
 *
 * On eviction (a slow consumer let the buffer drop entries the reader had not read yet) it hands
 * over to a catch-up scanner starting at `lastConsumed.lastConfirmedMessageId` with exclusive start
 * tick `lastConsumed.timeTick`. Why that loses and repeats nothing:
 * - the reader returned every buffered message with a tick ≤ `lastConsumed.timeTick` (ticks are
 *   ascending in the buffer, data strictly, and a data message never follows a TimeTick of an
 *   equal tick), so what is still owed is exactly the messages with a larger tick;
 * - by the last-confirmed contract, reading the WAL from `lastConsumed`'s last confirmed id yields
 *   every message with a larger tick (including the earlier parts of transactions still open);
 * - the catch-up scanner drops ticks ≤ `lastConsumed.timeTick`, i.e. everything already forwarded.
 */
export class TailingScanner implements ModeScanner {
  readonly mode = 'tailing';
  readonly bufferedCount = 0;
  readonly #ctx: ModeScannerContext;
  readonly #reader: WriteAheadBufferReader;
  #lastConsumed: ImmutableMessage;

  /** `lastConsumed`: the message forwarded just before this scanner took over. */
  constructor(ctx: ModeScannerContext, reader: WriteAheadBufferReader, lastConsumed: ImmutableMessage) {
    this.#ctx = ctx;
    this.#reader = reader;
    this.#lastConsumed = lastConsumed;
  }

  async next(): Promise<ScanStep> {
    const messages: ImmutableMessage[] = [];
    try {
      this.#drain(messages);
      if (messages.length === 0) {
        messages.push(await this.#reader.next({ signal: this.#ctx.signal }));
        // A wake-up means a whole sync batch (its messages and its TimeTick) arrived: take it all.
        this.#drain(messages);
      }
    } catch (error) {
      if (!isEvictedError(error)) throw error;
      // Whatever this call read before the eviction was not forwarded: the catch-up scanner
      // reads it again (its ticks are above the last consumed one).
      return { messages: [], switchTo: this.#fallBack() };
    }
    this.#lastConsumed = messages[messages.length - 1] as ImmutableMessage;
    return { messages };
  }

  /** Appends what the reader has now, at most the read-ahead size in all. */
  #drain(messages: ImmutableMessage[]): void {
    const limit = this.#ctx.readAheadBufferSize;
    while (messages.length < limit) {
      const message = this.#reader.tryNext();
      if (message === undefined) return;
      messages.push(message);
    }
  }

  #fallBack(): ModeScanner {
    const last = this.#lastConsumed;
    this.#ctx.logger.info(
      { timeTick: last.timeTick.toString(), messageId: last.messageId.toString(), lastConfirmed: last.lastConfirmedMessageId.toString() },
      'write-ahead buffer evicted the tail of a slow scanner, falling back to catch-up',
    );
    return this.#ctx.toCatchup(deliverStartFrom(last.lastConfirmedMessageId), last.timeTick);
  }

  /** Holds nothing: the reader is only a cursor. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
