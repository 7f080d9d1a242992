/**
 * The write side's view of one open transaction (Milvus `txn.TxnSession`,
 * reference/milvus-node.md §3.5).
 */
import {
  addPhysicalMs,
  Deferred,
  isInfiniteKeepalive,
  MAX_TS,
  raceAbort,
  StreamingError,
  type TxnContext,
} from '../../../../shared/index.js';
import type { AckTxnSession } from '../../utility/index.js';

/**
 * Where a session is. `begin`: the BeginTxn is being appended (nobody knows the id yet);
 * `inFlight`: bodies may be added; `onCommit` / `onRollback`: the commit or rollback waits for the
 * bodies still in flight and is appended; `committed` / `rollbacked`: done.
 */
export type TxnSessionState = 'begin' | 'inFlight' | 'onCommit' | 'committed' | 'onRollback' | 'rollbacked';

/** Options of {@link TxnSession}. */
export interface TxnSessionOptions {
  readonly vchannel: string;
  readonly txnContext: TxnContext;
  /** Time tick of the BeginTxn: the keepalive counts from it until the first body. */
  readonly timeTick: bigint;
  /** `begin` for a new transaction; `inFlight` for one recovered from the WAL. */
  readonly state?: 'begin' | 'inFlight';
}

/** Options of the waiting calls. */
export interface TxnWaitOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * Lifecycle: begin → inFlight (BeginTxn appended) → onCommit → committed, or → onRollback →
 * rollbacked; a failed BeginTxn goes begin → rollbacked.
 *
 * Expiry is a lease: the transaction lives until `lastTimeTick + keepalive` (on the physical
 * part of the hybrid time tick), where `lastTimeTick` is the BeginTxn's tick, refreshed by each
 * successfully appended body. An operation at or past that tick fails with TRANSACTION_EXPIRED
 * and the session stays expired for good, whatever tick later operations carry. A session failed
 * by an exclusive message ({@link fail}) behaves the same.
 *
 * {@link isExpiredOrDone} is what the ack manager asks before it lets the last confirmed id pass
 * a message of this transaction, and what the manager asks before it forgets the session.
 */
export class TxnSession implements AckTxnSession {
  readonly vchannel: string;
  readonly txnContext: TxnContext;
  #state: TxnSessionState;
  #lastTimeTick: bigint;
  #inFlight = 0;
  #expired = false;
  #failure: string | undefined;
  #drained: Deferred<void> | undefined;
  #cleanups: (() => void)[] | undefined = [];

  constructor(options: TxnSessionOptions) {
    this.vchannel = options.vchannel;
    this.txnContext = options.txnContext;
    this.#lastTimeTick = options.timeTick;
    this.#state = options.state ?? 'begin';
  }

  get txnId(): bigint {
    return this.txnContext.txnId;
  }

  get state(): TxnSessionState {
    return this.#state;
  }

  /** Bodies added and not yet appended (or failed). */
  get inFlightCount(): number {
    return this.#inFlight;
  }

  /** The tick the lease counts from. */
  get lastTimeTick(): bigint {
    return this.#lastTimeTick;
  }

  /** Operations at or past this tick fail with TRANSACTION_EXPIRED. */
  get expiredTimeTick(): bigint {
    if (isInfiniteKeepalive(this.txnContext)) return MAX_TS;
    return addPhysicalMs(this.#lastTimeTick, this.txnContext.keepaliveMs);
  }

  /** The BeginTxn was appended: bodies may come. */
  beginDone(): void {
    this.#expectState('BeginDone', 'begin');
    this.#state = 'inFlight';
  }

  /** The BeginTxn failed: the session is finished. */
  beginRollback(): void {
    this.#expectState('BeginRollback', 'begin');
    this.#state = 'rollbacked';
    this.cleanup();
  }

  /**
   * A body with time tick `timeTick` is about to be appended.
   *
   * @throws StreamingError TRANSACTION_EXPIRED (expired, or failed by an exclusive message),
   *   INVALID_TRANSACTION_STATE when not in flight (committing, rolled back, …).
   */
  addNewMessage(timeTick: bigint): void {
    this.#checkIfExpired(timeTick);
    if (this.#state !== 'inFlight') throw StreamingError.invalidTransactionState('AddNewMessage', 'inFlight', this.#state);
    this.#inFlight++;
  }

  /** The body was appended: refresh the lease to its tick (never backwards). */
  addNewMessageDoneAndKeepalive(timeTick: bigint): void {
    if (this.#lastTimeTick < timeTick) this.#lastTimeTick = timeTick;
    this.#bodyFinished();
  }

  /** The body's append failed: no lease refresh. */
  addNewMessageFail(): void {
    this.#bodyFinished();
  }

  /** {@inheritDoc AckTxnSession.isExpiredOrDone} */
  isExpiredOrDone(timeTick: bigint): boolean {
    // onCommit / onRollback are not done: their cleanups must not run before the end is appended.
    return (
      this.#expired ||
      this.#failure !== undefined ||
      this.#state === 'committed' ||
      this.#state === 'rollbacked' ||
      this.expiredTimeTick <= timeTick
    );
  }

  /**
   * Moves to onCommit and waits until no body is in flight; then the CommitTxn may be appended.
   *
   * @throws StreamingError TRANSACTION_EXPIRED, INVALID_TRANSACTION_STATE; the abort reason if
   *   `signal` aborts while waiting (the session stays onCommit and will expire).
   */
  requestCommitAndWait(timeTick: bigint, options: TxnWaitOptions = {}): Promise<void> {
    return this.#requestEnd('RequestCommit', 'onCommit', timeTick, options.signal);
  }

  /** The CommitTxn append ended: the transaction is finished. */
  commitDone(): void {
    this.#expectState('CommitDone', 'onCommit');
    this.#state = 'committed';
    this.cleanup();
  }

  /** Like {@link requestCommitAndWait}, towards a RollbackTxn. */
  requestRollback(timeTick: bigint, options: TxnWaitOptions = {}): Promise<void> {
    return this.#requestEnd('RequestRollback', 'onRollback', timeTick, options.signal);
  }

  /** The RollbackTxn append ended: the transaction is finished. */
  rollbackDone(): void {
    this.#expectState('RollbackDone', 'onRollback');
    this.#state = 'rollbacked';
    this.cleanup();
  }

  /**
   * Fails the transaction for good (an exclusive message passed its vchannel): every later
   * operation gets TRANSACTION_EXPIRED.
   */
  fail(reason: string): void {
    this.#failure ??= reason;
  }

  /**
   * Runs `fn` once when the session is cleaned up (finished, or forgotten by the manager).
   *
   * @throws StreamingError INVALID_TRANSACTION_STATE if the session is already expired or done.
   */
  registerCleanup(fn: () => void, timeTick: bigint): void {
    if (this.#cleanups === undefined || this.isExpiredOrDone(timeTick)) {
      throw StreamingError.invalidTransactionState('RegisterCleanup', 'active', this.#state);
    }
    this.#cleanups.push(fn);
  }

  /** Runs the registered cleanups; later calls do nothing. */
  cleanup(): void {
    const cleanups = this.#cleanups;
    this.#cleanups = undefined;
    for (const fn of cleanups ?? []) fn();
  }

  #requestEnd(op: string, to: 'onCommit' | 'onRollback', timeTick: bigint, signal: AbortSignal | undefined): Promise<void> {
    try {
      this.#checkIfExpired(timeTick);
      if (this.#state !== 'inFlight') throw StreamingError.invalidTransactionState(op, 'inFlight', this.#state);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = to;
    if (this.#inFlight === 0) return Promise.resolve();
    this.#drained ??= new Deferred<void>();
    return raceAbort(this.#drained.promise, signal);
  }

  #bodyFinished(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) this.#drained?.resolve();
  }

  #checkIfExpired(timeTick: bigint): void {
    if (this.#failure !== undefined) {
      throw StreamingError.transactionExpired(`transaction ${this.txnId} failed: ${this.#failure}`);
    }
    if (this.#expired) {
      throw StreamingError.transactionExpired(`transaction ${this.txnId} expired at ${this.expiredTimeTick}, current ${timeTick}`);
    }
    const expiredAt = this.expiredTimeTick;
    if (timeTick >= expiredAt) {
      // Once expired, never active again, even for an operation with an older tick.
      this.#expired = true;
      throw StreamingError.transactionExpired(`transaction ${this.txnId} expired at ${expiredAt}, current ${timeTick}`);
    }
  }

  #expectState(op: string, expected: TxnSessionState): void {
    // Only the time tick interceptor drives these transitions; a mismatch is a bug there.
    if (this.#state !== expected) throw StreamingError.invalidTransactionState(op, expected, this.#state);
  }
}
