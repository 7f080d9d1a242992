/**
 * The innermost step of the append path (Milvus `retryAppendWhenRecoverableError`,
 * reference/milvus-node.md §2.3 step 5): the backend write, retried while the failure is a
 * transient storage error.
 */
import {
  abortReason,
  abortableSleep,
  anySignal,
  asStreamingError,
  Backoff,
  type BackoffOptions,
  type ImmutableMessage,
  type Logger,
  type MessageId,
  type MutableMessage,
  StreamingCode,
  type StreamingError,
} from '../../../shared/index.js';
import type { WalBackend } from '../backend/index.js';

/** Options of {@link BackendAppender}. */
export interface BackendAppenderOptions {
  readonly backend: Pick<WalBackend, 'append' | 'appendStored'>;
  /** Aborted when the WAL becomes unavailable (closing, fenced): retries stop with its reason. */
  readonly availability: AbortSignal;
  readonly backoff: Readonly<Partial<BackoffOptions>>;
  /** The backend reported CHANNEL_FENCED: a newer term owns the pchannel. */
  readonly onFenced: (error: StreamingError) => void;
  readonly logger: Logger;
}

/**
 * Writes one message to the backend.
 *
 * - INNER (a storage hiccup; nothing of the batch landed) is retried with backoff (10 ms ×2 ≤ 5 s
 *   by default) without a limit, as Milvus does: the caller keeps its place in the time tick order
 *   (its tick is allocated and unacknowledged, so every later tick waits for it anyway).
 * - Retrying stops when the caller's signal aborts (its reason) or the WAL becomes unavailable
 *   (the availability reason: ON_SHUTDOWN on close, CHANNEL_FENCED after a fence).
 * - CHANNEL_FENCED is reported through `onFenced` (which marks the WAL fenced and unavailable)
 *   and rethrown; nothing landed.
 * - Anything else (ON_SHUTDOWN, INVAILD_ARGUMENT, a bug) is rethrown at once.
 *
 * The first attempt costs nothing extra: signals are only combined once a retry is needed.
 * Resolves with the message as stored (the backend's own object when it offers `appendStored`).
 */
export class BackendAppender {
  readonly #options: BackendAppenderOptions;

  constructor(options: BackendAppenderOptions) {
    this.#options = options;
  }

  append(message: MutableMessage, signal: AbortSignal | undefined): Promise<ImmutableMessage> {
    // No frame of our own on the first attempt: the retry loop is only entered on a failure.
    return this.attempt(message).catch((error: unknown) => this.retry(message, signal, error));
  }

  /**
   * One write, no retry. With {@link retry} on its rejection it is {@link append}: the WAL's
   * interceptor chain calls the two itself, so the retry needs no reaction per append.
   */
  attempt(message: MutableMessage): Promise<ImmutableMessage> {
    const { backend } = this.#options;
    try {
      if (backend.appendStored !== undefined) return backend.appendStored(message);
      return backend.append(message).then((id: MessageId) => message.intoImmutable(id));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** What {@link append} does after the first {@link attempt} failed with `firstError`. */
  async retry(message: MutableMessage, signal: AbortSignal | undefined, firstError: unknown): Promise<ImmutableMessage> {
    const { availability, logger } = this.#options;
    const backoff = new Backoff(this.#options.backoff);
    let error = firstError;
    for (let attempt = 1; ; attempt++) {
      const failure = asStreamingError(error);
      if (failure.isFenced()) {
        this.#options.onFenced(failure);
        throw failure;
      }
      if (failure.code !== StreamingCode.INNER) throw failure;
      const stop = anySignal([signal, availability]);
      try {
        if (stop.signal.aborted) throw abortReason(stop.signal);
        const delayMs = backoff.next();
        logger.warn({ err: failure, attempt, delayMs }, 'backend append failed, retrying');
        await abortableSleep(delayMs, stop.signal);
      } finally {
        stop.dispose();
      }
      try {
        return await this.attempt(message);
      } catch (next) {
        error = next;
      }
    }
  }
}
