/**
 * One allocated time tick waiting for its append to finish (Milvus `ack.Acker`), and the record
 * the ack manager keeps once it is acknowledged (Milvus `AckDetail`).
 */
import type { ImmutableMessage, MessageId } from '../../../shared/message/index.js';

/**
 * What the ack manager needs to know about the transaction a message belongs to: whether the
 * transaction is finished (committed, rolled back, failed) or expired as of a time tick. The
 * txn interceptor's session implements it. While it answers false, the last confirmed id cannot
 * move past the message (a consumer resuming there must still see the whole transaction).
 */
export interface AckTxnSession {
  isExpiredOrDone(timeTick: bigint): boolean;
}

/**
 * How an append ended, reported through {@link Acker.ack}.
 * - `success`: the message as stored (its `messageId` is where the WAL put it); `txnSession`
 *   when it is part of a transaction (begin, body, commit or rollback).
 * - `error`: the append failed; the time tick is released but nothing was written.
 */
export type AckOutcome =
  | { readonly kind: 'success'; readonly message: ImmutableMessage; readonly txnSession?: AckTxnSession }
  | { readonly kind: 'error'; readonly error: unknown };

/** Kind of an {@link AckDetail}: the outcome kinds plus `sync`, the ack manager's own tick. */
export type AckKind = AckOutcome['kind'] | 'sync';

/** An acknowledged time tick, as the time tick sync operator receives it. */
export interface AckDetail {
  readonly kind: AckKind;
  /** The allocated time tick. */
  readonly beginTimestamp: bigint;
  /**
   * The newest time tick allocated when the ack arrived: every message allocated after the ack
   * has a greater one, and every message appended before the ack has one ≤ it.
   */
  readonly endTimestamp: bigint;
  /** The last confirmed id captured at allocation (stamped as the message's `_lc`). */
  readonly lastConfirmedMessageId: MessageId;
  /** The stored message (`success` only). */
  readonly message: ImmutableMessage | undefined;
  /** The transaction of the message (`success` only, when in a transaction). */
  readonly txnSession: AckTxnSession | undefined;
  /** Why the append failed (`error` only). */
  readonly error: unknown;
}

/**
 * Handle of one allocated time tick. The appender stamps {@link timestamp} as `_tt` and
 * {@link lastConfirmedMessageId} as `_lc`, appends, then calls {@link ack} exactly once, also on
 * failure: an acker never acknowledged holds the time tick (and every later one) back forever.
 */
export class Acker {
  /** The allocated time tick. */
  readonly timestamp: bigint;
  /** The last confirmed id at allocation time. */
  readonly lastConfirmedMessageId: MessageId;
  readonly #onAck: (outcome: AckOutcome) => void;
  #acknowledged = false;

  /** @internal Created by the ack manager only. */
  constructor(timestamp: bigint, lastConfirmedMessageId: MessageId, onAck: (outcome: AckOutcome) => void) {
    this.timestamp = timestamp;
    this.lastConfirmedMessageId = lastConfirmedMessageId;
    this.#onAck = onAck;
  }

  /** True once {@link ack} was called. */
  get acknowledged(): boolean {
    return this.#acknowledged;
  }

  /**
   * Reports how the append ended. Returns false (and changes nothing) if already acknowledged,
   * so a `finally` that acks defensively cannot corrupt the manager's bookkeeping.
   */
  ack(outcome: AckOutcome): boolean {
    if (this.#acknowledged) return false;
    this.#acknowledged = true;
    this.#onAck(outcome);
    return true;
  }
}
