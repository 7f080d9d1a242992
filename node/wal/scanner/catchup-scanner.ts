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
import { isEvictedError, type WriteAheadBuffer, type WriteAheadBufferReader } from '../utility/index.js';
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
      const chunk = this.#takeBuffered() ?? (await this.#readOne());
      if (chunk === undefined) continue;
      this.#lastReadId = (chunk[chunk.length - 1] as ImmutableMessage).messageId;
      this.#backoff.reset();
      const step = this.#step(chunk);
      if (step !== undefined) return step;
    }
  }

  async close(): Promise<void> {
    const scanner = this.#scanner;
    this.#scanner = undefined;
    this.#iterator = undefined;
    await scanner?.close();
  }

  /** The backend's read-ahead, taken without waiting; undefined when there is none. */
  #takeBuffered(): ImmutableMessage[] | undefined {
    const chunk = this.#scanner?.takeBuffered();
    return chunk !== undefined && chunk.length > 0 ? chunk : undefined;
  }

  /**
   * Waits for one message (opening the backend scanner if needed) and takes what was read ahead
   * with it. Undefined after a recovered hiccup.
   */
  async #readOne(): Promise<ImmutableMessage[] | undefined> {
    const iterator = this.#iterator ?? (await this.#open());
    let result: IteratorResult<ImmutableMessage>;
    try {
      result = await iterator.next();
    } catch (error) {
      await this.#recover(error, 'read');
      return undefined;
    }
    if (result.done === true) {
      // Only our close() ends a backend scanner quietly; anything else is a hiccup to retry.
      await this.#recover(StreamingError.inner(`backend scanner of ${this.#ctx.name} ended`), 'read');
      return undefined;
    }
    const chunk = this.#scanner?.takeBuffered();
    if (chunk === undefined) return [result.value];
    chunk.unshift(result.value);
    return chunk;
  }

  /**
   * What `chunk` forwards: messages with a time tick above the exclusive start, up to and
   * including a TimeTick on which the write-ahead buffer takes over (the rest of the chunk is
   * then dropped: the buffer holds everything after that tick). Undefined when nothing is left.
   */
  #step(chunk: ImmutableMessage[]): ScanStep | undefined {
    const buffer = this.#ctx.writeAheadBuffer;
    const exclusiveStart = this.#exclusiveStartTimeTick;
    // Copied lazily: in the common case every message passes and the chunk is forwarded as is.
    let kept: ImmutableMessage[] | undefined;
    for (let i = 0; i < chunk.length; i++) {
      const message = chunk[i] as ImmutableMessage;
      if (!message.hasTimeTick || message.timeTick <= exclusiveStart) {
        if (!message.hasTimeTick) this.#ctx.logger.warn({ messageId: message.messageId.toString() }, 'message without time tick skipped');
        kept ??= chunk.slice(0, i);
        continue;
      }
      kept?.push(message);
      if (buffer === undefined || message.messageType !== MessageType.TimeTick) continue;
      const reader = tailingReader(buffer, message.timeTick);
      if (reader !== undefined) {
        return { messages: kept ?? chunk.slice(0, i + 1), switchTo: this.#ctx.toTailing(reader, message) };
      }
    }
    const messages = kept ?? chunk;
    return messages.length > 0 ? { messages } : undefined;
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

/**
 * A reader of the buffer continuing after TimeTick `timeTick`, or undefined when the buffer no
 * longer holds what follows it (keep reading the backend). Anything else (the buffer closed with
 * the WAL) ends the scanner.
 */
function tailingReader(buffer: WriteAheadBuffer, timeTick: bigint): WriteAheadBufferReader | undefined {
  // While far behind, nearly every tick is older than the buffer: answer that without building
  // (and throwing) an EvictedError per tick. The buffer's last entry is never evicted, so a tick
  // below the earliest one is also below the last one, which is exactly when the buffer throws.
  const earliest = buffer.earliestTimeTick;
  if (earliest !== undefined && timeTick < earliest) return undefined;
  try {
    return buffer.readFromExclusiveTimeTick(timeTick);
  } catch (error) {
    if (isEvictedError(error)) return undefined;
    throw error;
  }
}

/** `latest` becomes a fixed position now; see the class comment. */
function pinLatest(ctx: ModeScannerContext, policy: DeliverPolicy): DeliverPolicy {
  if (policy.kind !== 'latest') return policy;
  const newest = ctx.backend.latestMessageId();
  return newest === undefined ? deliverAll() : deliverStartAfter(newest);
}
