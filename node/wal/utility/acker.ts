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
 * @internal How ackers report back to the ack manager that made them (one object per manager,
 * shared by all its ackers).
 */
export interface AckerOwner {
  /** The newest time tick allocated right now: an acknowledged detail's `endTimestamp`. */
  lastAllocatedTimeTick(): bigint;
  /** Called once per acker, right after it recorded its outcome. */
  acknowledged(acker: Acker): void;
}

/**
 * Handle of one allocated time tick. The appender stamps {@link timestamp} as `_tt` and
 * {@link lastConfirmedMessageId} as `_lc`, appends, then acknowledges exactly once ({@link ack},
 * or {@link ackSuccess} / {@link ackError}), also on failure: an acker never acknowledged holds
 * the time tick (and every later one) back forever.
 *
 * Once acknowledged the acker is its own {@link AckDetail}: the ack manager keeps, pops and hands
 * out this very object, so an append costs one record instead of a handle, a queue entry and a
 * detail (this is the WAL's hot path). The detail fields read as the outcome only once
 * {@link acknowledged}; before that `kind` throws.
 */
export class Acker implements AckDetail {
  /** The allocated time tick. */
  readonly timestamp: bigint;
  /** The last confirmed id at allocation time. */
  readonly lastConfirmedMessageId: MessageId;
  readonly #owner: AckerOwner;
  #kind: AckKind | undefined;
  #endTimestamp = 0n;
  #message: ImmutableMessage | undefined;
  #txnSession: AckTxnSession | undefined;
  #error: unknown;

  /** @internal Created by the ack manager only. */
  constructor(timestamp: bigint, lastConfirmedMessageId: MessageId, owner: AckerOwner) {
    this.timestamp = timestamp;
    this.lastConfirmedMessageId = lastConfirmedMessageId;
    this.#owner = owner;
  }

  /** True once acknowledged. */
  get acknowledged(): boolean {
    return this.#kind !== undefined;
  }

  // ---- AckDetail (meaningful once acknowledged) ----

  get kind(): AckKind {
    if (this.#kind === undefined) throw new Error(`time tick ${this.timestamp} is not acknowledged yet`);
    return this.#kind;
  }

  get beginTimestamp(): bigint {
    return this.timestamp;
  }

  get endTimestamp(): bigint {
    return this.#endTimestamp;
  }

  get message(): ImmutableMessage | undefined {
    return this.#message;
  }

  get txnSession(): AckTxnSession | undefined {
    return this.#txnSession;
  }

  get error(): unknown {
    return this.#error;
  }

  // ---- acknowledging ----

  /**
   * Reports how the append ended. Returns false (and changes nothing) if already acknowledged,
   * so a `finally` that acks defensively cannot corrupt the manager's bookkeeping.
   */
  ack(outcome: AckOutcome): boolean {
    return outcome.kind === 'success' ? this.ackSuccess(outcome.message, outcome.txnSession) : this.ackError(outcome.error);
  }

  /** {@link ack} of a `success` outcome, without building the outcome object. */
  ackSuccess(message: ImmutableMessage, txnSession?: AckTxnSession): boolean {
    if (this.#kind !== undefined) return false;
    this.#message = message;
    this.#txnSession = txnSession;
    return Acker.#settle(this, 'success');
  }

  /** {@link ack} of an `error` outcome. */
  ackError(error: unknown): boolean {
    if (this.#kind !== undefined) return false;
    this.#error = error;
    return Acker.#settle(this, 'error');
  }

  /** @internal The ack manager's own `sync` tick, acknowledged as soon as it is allocated. */
  ackSync(): boolean {
    if (this.#kind !== undefined) return false;
    return Acker.#settle(this, 'sync');
  }

  // Static, not an instance private method: that would cost every acker (one per append) a brand field.
  static #settle(acker: Acker, kind: AckKind): true {
    acker.#kind = kind;
    acker.#endTimestamp = acker.#owner.lastAllocatedTimeTick();
    acker.#owner.acknowledged(acker);
    return true;
  }
}
