import { StreamingCode, streamingCodeName } from './streaming-code.js';

/**
 * The one error type of the streaming service. `code` says what went wrong (and drives retry
 * decisions through the predicates); `message` carries the human-readable cause; `cause` keeps the
 * underlying error, if any.
 *
 * @example
 * ```ts
 * try { await wal.append(msg); }
 * catch (e) { if (asStreamingError(e).isFenced()) await reconnect(); }
 * ```
 */
export class StreamingError extends Error {
  override readonly name = 'StreamingError';
  readonly code: StreamingCode;

  constructor(code: StreamingCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** The `StreamingError.cause` string of the proto form (the message without the code). */
  get causeText(): string {
    return this.message;
  }

  override toString(): string {
    return `StreamingError: code: ${streamingCodeName(this.code)}, cause: ${this.message}`;
  }

  // ---- predicates (one-for-one with Milvus) ----

  /** The channel lives elsewhere now: report to the coordinator and wait for a newer term. */
  isWrongStreamingNode(): boolean {
    return (
      this.code === StreamingCode.UNMATCHED_CHANNEL_TERM ||
      this.code === StreamingCode.CHANNEL_NOT_EXIST ||
      this.code === StreamingCode.CHANNEL_FENCED
    );
  }
  isFenced(): boolean {
    return this.code === StreamingCode.CHANNEL_FENCED;
  }
  isOnShutdown(): boolean {
    return this.code === StreamingCode.ON_SHUTDOWN;
  }
  /** The operation was ignored or skipped (stale term, duplicate request): not a failure to retry. */
  isSkippedOperation(): boolean {
    return this.code === StreamingCode.IGNORED_OPERATION || this.code === StreamingCode.UNMATCHED_CHANNEL_TERM;
  }
  isTxnUnavailable(): boolean {
    return this.code === StreamingCode.TRANSACTION_EXPIRED || this.code === StreamingCode.INVALID_TRANSACTION_STATE;
  }
  /** Stop retrying and report to the user. */
  isUnrecoverable(): boolean {
    return this.code === StreamingCode.UNRECOVERABLE || this.isTxnUnavailable();
  }
  isInvalidArgument(): boolean {
    return this.code === StreamingCode.INVAILD_ARGUMENT;
  }
  isResourceAcquired(): boolean {
    return this.code === StreamingCode.RESOURCE_ACQUIRED;
  }

  // ---- constructors ----

  static channelNotExist(channel: string): StreamingError {
    return new StreamingError(StreamingCode.CHANNEL_NOT_EXIST, `${channel} not exist`);
  }
  static channelFenced(channel: string): StreamingError {
    return new StreamingError(StreamingCode.CHANNEL_FENCED, `${channel} fenced`);
  }
  static onShutdown(what: string): StreamingError {
    return new StreamingError(StreamingCode.ON_SHUTDOWN, what);
  }
  static invalidRequestSeq(what: string): StreamingError {
    return new StreamingError(StreamingCode.INVALID_REQUEST_SEQ, what);
  }
  static unmatchedChannelTerm(channel: string, expectedTerm: bigint, currentTerm: bigint): StreamingError {
    return new StreamingError(
      StreamingCode.UNMATCHED_CHANNEL_TERM,
      `channel ${channel} at term ${expectedTerm} is expected, but current term is ${currentTerm}`,
    );
  }
  static ignoredOperation(what: string): StreamingError {
    return new StreamingError(StreamingCode.IGNORED_OPERATION, what);
  }
  static inner(what: string, cause?: unknown): StreamingError {
    return new StreamingError(StreamingCode.INNER, what, cause === undefined ? undefined : { cause });
  }
  /** Bad input. `field` names what was wrong, so the caller can fix it. */
  static invalidArgument(field: string, problem: string, cause?: unknown): StreamingError {
    return new StreamingError(
      StreamingCode.INVAILD_ARGUMENT,
      `invalid ${field}: ${problem}`,
      cause === undefined ? undefined : { cause },
    );
  }
  static transactionExpired(what: string): StreamingError {
    return new StreamingError(StreamingCode.TRANSACTION_EXPIRED, what);
  }
  static invalidTransactionState(operation: string, expected: string, current: string): StreamingError {
    return new StreamingError(
      StreamingCode.INVALID_TRANSACTION_STATE,
      `invalid transaction state for operation ${operation}, expect ${expected}, current ${current}`,
    );
  }
  static unrecoverable(what: string, cause?: unknown): StreamingError {
    return new StreamingError(StreamingCode.UNRECOVERABLE, what, cause === undefined ? undefined : { cause });
  }
  static resourceAcquired(what: string): StreamingError {
    return new StreamingError(StreamingCode.RESOURCE_ACQUIRED, what);
  }
  static unknown(what: string, cause?: unknown): StreamingError {
    return new StreamingError(StreamingCode.UNKNOWN, what, cause === undefined ? undefined : { cause });
  }
}

/** True for a {@link StreamingError}, also one from another copy of this module. */
export function isStreamingError(e: unknown): e is StreamingError {
  return e instanceof StreamingError;
}

/**
 * Normalises anything thrown into a {@link StreamingError}: a StreamingError is returned as is,
 * anything else becomes `UNKNOWN` with the original kept as `cause`.
 */
export function asStreamingError(e: unknown): StreamingError {
  if (e instanceof StreamingError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return StreamingError.unknown(message, e);
}
