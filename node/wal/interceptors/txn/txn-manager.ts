/**
 * The open transactions of one WAL (Milvus `txn.TxnManager`, reference/milvus-node.md §3.5).
 * Transactions live and die with the WAL incarnation: after a move to another node (or a
 * reopen) a transaction the new incarnation does not know fails with TRANSACTION_EXPIRED and the
 * client starts over, except for the ones recovery found persisted and uncommitted.
 */
import {
  DEFAULT_TXN_KEEPALIVE_MS,
  Deferred,
  type Logger,
  MIN_TXN_KEEPALIVE_MS,
  noopLogger,
  raceAbort,
  StreamingError,
  txnContext,
} from '../../../../shared/index.js';
import type { TxnMessageBuilder } from '../../utility/index.js';
import { TxnSession, type TxnWaitOptions } from './txn-session.js';

/**
 * Picks the id of a new transaction from its BeginTxn's time tick. Ids must be unique within the
 * WAL, also against transactions recovered from earlier incarnations.
 */
export type TxnIdAllocator = (beginTimeTick: bigint) => bigint;

/** Options of {@link TxnManager}. */
export interface TxnManagerOptions {
  /** Keepalive of a BeginTxn that asks for 0 ms; default {@link DEFAULT_TXN_KEEPALIVE_MS}. */
  readonly defaultKeepaliveMs?: bigint;
  /**
   * Default: the BeginTxn's time tick, bumped past the last id handed out if needed. Time ticks
   * strictly increase per pchannel across incarnations (the TSO is global and each open writes a
   * newer barrier tick), so these ids never repeat within a WAL, and they fit int64 for the next
   * few thousand years. Milvus uses its node-wide id allocator instead.
   */
  readonly allocateTxnId?: TxnIdAllocator;
  /**
   * Transactions recovery found persisted but not committed ({@link TxnBuffer.uncommittedBuilders}):
   * re-registered in flight so a commit the client still sends can finish.
   */
  readonly uncommitted?: readonly TxnMessageBuilder[];
  readonly logger?: Logger;
}

/** What a BeginTxn asks for. */
export interface BeginTxnRequest {
  readonly vchannel: string;
  /** The BeginTxn's time tick. */
  readonly timeTick: bigint;
  /** From the BeginTxn header; 0 = the default keepalive. */
  readonly keepaliveMs: bigint;
}

/**
 * Registry of sessions by txn id.
 *
 * - Sessions are forgotten by {@link cleanupTxnUntil} (each time tick: expired or finished ones)
 *   and {@link failTxnAtVChannel} (an exclusive message passed); a forgotten id gets
 *   TRANSACTION_EXPIRED ("not found") from {@link getSessionOfTxn}.
 * - {@link gracefulClose} refuses new transactions and resolves once every session is gone.
 */
export class TxnManager {
  readonly #sessions = new Map<bigint, TxnSession>();
  readonly #defaultKeepaliveMs: bigint;
  readonly #allocateTxnId: TxnIdAllocator | undefined;
  readonly #logger: Logger;
  #lastTxnId: bigint | undefined;
  #closing: Deferred<void> | undefined;

  constructor(options: TxnManagerOptions = {}) {
    this.#defaultKeepaliveMs = options.defaultKeepaliveMs ?? DEFAULT_TXN_KEEPALIVE_MS;
    if (this.#defaultKeepaliveMs < MIN_TXN_KEEPALIVE_MS) {
      throw new RangeError(`defaultKeepaliveMs must be >= ${MIN_TXN_KEEPALIVE_MS}, got ${this.#defaultKeepaliveMs}`);
    }
    this.#allocateTxnId = options.allocateTxnId;
    this.#logger = options.logger ?? noopLogger;
    for (const builder of options.uncommitted ?? []) this.#recover(builder);
    if (this.#sessions.size > 0) {
      this.#logger.info({ txnIds: [...this.#sessions.keys()].map(String) }, 'txn manager recovered uncommitted transactions');
    }
  }

  /** Number of sessions held. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** True once {@link gracefulClose} was called. */
  get isClosing(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Opens a session (state `begin`) for a BeginTxn about to be appended.
   *
   * @throws StreamingError TRANSACTION_EXPIRED while closing ("manager closed");
   *   INVAILD_ARGUMENT for a keepalive below 1 ms; INNER if the id allocator repeats an open id.
   */
  beginNewTxn(request: BeginTxnRequest): TxnSession {
    if (this.#closing !== undefined) throw StreamingError.transactionExpired('txn manager closed');
    const keepaliveMs = request.keepaliveMs === 0n ? this.#defaultKeepaliveMs : request.keepaliveMs;
    if (keepaliveMs < MIN_TXN_KEEPALIVE_MS) {
      throw StreamingError.invalidArgument('txn keepalive', `must be at least ${MIN_TXN_KEEPALIVE_MS} ms, got ${keepaliveMs}`);
    }
    const id = this.#nextTxnId(request.timeTick);
    if (this.#sessions.has(id)) throw StreamingError.inner(`txn id ${id} is already in use`);
    const session = new TxnSession({
      vchannel: request.vchannel,
      txnContext: txnContext(id, keepaliveMs),
      timeTick: request.timeTick,
    });
    this.#sessions.set(id, session);
    return session;
  }

  /**
   * The session of an open transaction.
   *
   * @throws StreamingError TRANSACTION_EXPIRED when the id is unknown (finished, expired, failed,
   *   or from another incarnation of the WAL).
   */
  getSessionOfTxn(txnId: bigint): TxnSession {
    const session = this.#sessions.get(txnId);
    if (session === undefined) throw StreamingError.transactionExpired(`txn ${txnId} not found in manager`);
    return session;
  }

  /**
   * Fails and forgets the transactions of `vchannel` (every transaction when undefined): an
   * exclusive message was appended there, and a transaction must not commit across it.
   */
  failTxnAtVChannel(vchannel: string | undefined): void {
    const failed: string[] = [];
    for (const [id, session] of this.#sessions) {
      if (vchannel !== undefined && session.vchannel !== vchannel) continue;
      session.fail(`interrupted by an exclusive message on ${vchannel ?? 'every vchannel'}`);
      this.#forget(id, session);
      failed.push(id.toString());
    }
    if (failed.length > 0) this.#logger.info({ vchannel: vchannel ?? '*', txnIds: failed }, 'transactions interrupted');
    this.#notifyIfDrained();
  }

  /** Forgets every session expired or finished as of `timeTick` (called with each time tick). */
  cleanupTxnUntil(timeTick: bigint): void {
    for (const [id, session] of this.#sessions) {
      if (session.isExpiredOrDone(timeTick)) this.#forget(id, session);
    }
    this.#notifyIfDrained();
  }

  /**
   * Refuses new transactions from now on and resolves once every session is gone (committed,
   * rolled back, expired or failed, as later time ticks clean them up). Rejects with the abort
   * reason if `signal` aborts first; the manager stays closing.
   */
  gracefulClose(options: TxnWaitOptions = {}): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = new Deferred<void>();
      this.#logger.info({ activeTxnCount: this.#sessions.size }, 'txn manager closing gracefully');
      this.#notifyIfDrained();
    }
    return raceAbort(this.#closing.promise, options.signal);
  }

  #recover(builder: TxnMessageBuilder): void {
    const { begin, txn } = builder;
    // The lease counts from the newest persisted message of the transaction, as it did on the
    // incarnation that wrote them.
    let lastTimeTick = begin.timeTick;
    for (const body of builder.bodies) if (body.timeTick > lastTimeTick) lastTimeTick = body.timeTick;
    const session = new TxnSession({ vchannel: begin.vchannel ?? '', txnContext: txn, timeTick: lastTimeTick, state: 'inFlight' });
    this.#sessions.set(txn.txnId, session);
    if (this.#lastTxnId === undefined || txn.txnId > this.#lastTxnId) this.#lastTxnId = txn.txnId;
  }

  #nextTxnId(beginTimeTick: bigint): bigint {
    if (this.#allocateTxnId !== undefined) return this.#allocateTxnId(beginTimeTick);
    const last = this.#lastTxnId;
    const id = last === undefined || beginTimeTick > last ? beginTimeTick : last + 1n;
    this.#lastTxnId = id;
    return id;
  }

  #forget(id: bigint, session: TxnSession): void {
    this.#sessions.delete(id);
    session.cleanup();
  }

  #notifyIfDrained(): void {
    if (this.#closing !== undefined && this.#sessions.size === 0) this.#closing.resolve();
  }
}
