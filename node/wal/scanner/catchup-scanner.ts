/**
 * Catch-up mode (Milvus `catchupScanner`): reads the WAL backend from a deliver policy and, on
 * every TimeTick it forwards, tries to continue from the write-ahead buffer instead.
 */
import { asStreamingError, StreamingError } from '../../../shared/errors/index.js';
import {
  deliverAll,
  deliverStartAfter,
  type DeliverPolicy,
  type ImmutableMessage,
  type MessageId,
  MessageType,
} from '../../../shared/message/index.js';
import { abortableSleep, abortReason, Backoff } from '../../../shared/util/index.js';
import type { BackendScanner } from '../backend/index.js';
import { isEvictedError, type WriteAheadBufferReader } from '../utility/index.js';
import { isRetriableBackendError, type ModeScanner, type ModeScannerContext, type ScanStep } from './mode-scanner.js';

/**
 * Reads the backend and forwards every message with a time tick above `exclusiveStartTimeTick`.
 *
 * - **Start**: a `latest` policy is pinned to the backend's newest id when the scanner is built
 *   (`startAfter(latest)`, or `all` on an empty log, which starts at the same place), so a retry
 *   after a read error does not skip what was appended in between. (As in Milvus, a message
 *   appended just before that point can still arrive through the write-ahead buffer when its tick
 *   is above the TimeTick the scanner switches on: delivery follows time ticks, not ids.)
 * - **Retries**: opening or reading the backend fails over with a backoff (100 ms ×2 ≤ 5 s) on INNER
 *   errors only; the retry reopens *after the last message read* (backend ids strictly increase,
 *   so that position repeats and skips nothing). Any other error ends the scanner.
 * - **Exclusive start**: after falling back from tailing, the scanner starts at the last consumed
 *   message's last confirmed id, which re-reads messages already delivered; every one of them has a
 *   tick ≤ the last consumed tick, so dropping ticks ≤ `exclusiveStartTimeTick` removes exactly the
 *   repeats (the last-confirmed contract: reading from LC yields everything with a larger tick).
 * - **Switch**: only TimeTick messages are in the same order in the WAL and in the write-ahead
 *   buffer, so only on a TimeTick T does it ask the buffer for a reader of ticks > T; when the
 *   buffer still holds T's neighbourhood it hands over to a tailing scanner.
 * - **Read-only WAL** (no buffer): never switches; the backend scanner waits for new messages at
 *   the end of the log, which is tailing enough.
 */
export class CatchupScanner implements ModeScanner {
  readonly mode = 'catchup';
  readonly #ctx: ModeScannerContext;
  readonly #startPolicy: DeliverPolicy;
  readonly #exclusiveStartTimeTick: bigint;
  readonly #backoff: Backoff;
  #scanner: BackendScanner | undefined;
  #iterator: AsyncIterator<ImmutableMessage> | undefined;
  /** Position of the last message read from the backend (forwarded or cut). */
  #lastReadId: MessageId | undefined;

  constructor(ctx: ModeScannerContext, policy: DeliverPolicy, exclusiveStartTimeTick: bigint) {
    this.#ctx = ctx;
    this.#startPolicy = pinLatest(ctx, policy);
    this.#exclusiveStartTimeTick = exclusiveStartTimeTick;
    this.#backoff = new Backoff(ctx.backoff);
  }

  get bufferedCount(): number {
    return this.#scanner?.bufferedCount ?? 0;
  }

  async next(): Promise<ScanStep> {
    for (;;) {
      const iterator = await this.#open();
      let result: IteratorResult<ImmutableMessage>;
      try {
        result = await iterator.next();
      } catch (error) {
        await this.#recover(error, 'read');
        continue;
      }
      if (result.done === true) {
        // Only our close() ends a backend scanner quietly; anything else is a hiccup to retry.
        await this.#recover(StreamingError.inner(`backend scanner of ${this.#ctx.name} ended`), 'read');
        continue;
      }
      const message = result.value;
      this.#lastReadId = message.messageId;
      this.#backoff.reset();
      if (!message.hasTimeTick) {
        this.#ctx.logger.warn({ messageId: message.messageId.toString() }, 'message without time tick skipped');
        continue;
      }
      if (message.timeTick <= this.#exclusiveStartTimeTick) continue;
      return this.#step(message);
    }
  }

  async close(): Promise<void> {
    const scanner = this.#scanner;
    this.#scanner = undefined;
    this.#iterator = undefined;
    await scanner?.close();
  }

  /** Forwards `message`; on a TimeTick also switches to tailing if the buffer can take over. */
  #step(message: ImmutableMessage): ScanStep {
    const buffer = this.#ctx.writeAheadBuffer;
    if (buffer === undefined || message.messageType !== MessageType.TimeTick) return { message };
    let reader: WriteAheadBufferReader;
    try {
      reader = buffer.readFromExclusiveTimeTick(message.timeTick);
    } catch (error) {
      // Evicted: the buffer no longer holds what follows T, keep reading the backend. Anything
      // else (the buffer closed with the WAL) ends the scanner.
      if (isEvictedError(error)) return { message };
      throw error;
    }
    return { message, switchTo: this.#ctx.toTailing(reader, message) };
  }

  /** The current iterator, opening the backend scanner (with retries) when there is none. */
  async #open(): Promise<AsyncIterator<ImmutableMessage>> {
    for (;;) {
      if (this.#iterator !== undefined) return this.#iterator;
      const { signal } = this.#ctx;
      if (signal.aborted) throw abortReason(signal);
      const deliverPolicy = this.#lastReadId === undefined ? this.#startPolicy : deliverStartAfter(this.#lastReadId);
      try {
        const scanner = this.#ctx.backend.read({
          name: this.#ctx.name,
          deliverPolicy,
          readAheadBufferSize: this.#ctx.readAheadBufferSize,
          signal,
        });
        this.#scanner = scanner;
        this.#iterator = scanner[Symbol.asyncIterator]();
      } catch (error) {
        await this.#recover(error, 'open');
      }
    }
  }

  /** Drops the backend scanner; rethrows fatal errors, else waits out a backoff delay. */
  async #recover(error: unknown, operation: 'open' | 'read'): Promise<void> {
    const { signal, logger } = this.#ctx;
    await this.close();
    if (signal.aborted) throw abortReason(signal);
    if (!isRetriableBackendError(error)) throw asStreamingError(error);
    const delayMs = this.#backoff.next();
    logger.warn({ err: error, operation, delayMs, lastReadId: this.#lastReadId?.toString() }, 'backend scan failed, retrying after backoff');
    await abortableSleep(delayMs, signal);
  }
}

/** `latest` becomes a fixed position now; see the class comment. */
function pinLatest(ctx: ModeScannerContext, policy: DeliverPolicy): DeliverPolicy {
  if (policy.kind !== 'latest') return policy;
  const newest = ctx.backend.latestMessageId();
  return newest === undefined ? deliverAll() : deliverStartAfter(newest);
}
