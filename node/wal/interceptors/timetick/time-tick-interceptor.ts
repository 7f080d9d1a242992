/**
 * The time tick interceptor (Milvus `timeTickAppendInterceptor`, reference/milvus-node.md §3.4
 * and §3.5): gives every message its time tick and last confirmed id, drives the transaction
 * sessions, and reports each append's end to the ack manager.
 */
import {
  type ImmutableMessage,
  type Logger,
  MessageType,
  type MutableMessage,
  noopLogger,
  StreamingError,
} from '../../../../shared/index.js';
import type { Acker, AckManager } from '../../utility/index.js';
import type { AppendContext, SettleHook } from '../append-context.js';
import type { AppendFn, Interceptor } from '../interceptor.js';
import type { TxnManager } from '../txn/index.js';
import type { TimeTickSyncOperator } from './time-tick-sync-operator.js';
import { prepareTxn, type TxnStep } from './txn-step.js';

/** Milvus bounds the txn manager's graceful close by 3 s. */
export const DEFAULT_TXN_GRACEFUL_CLOSE_TIMEOUT_MS = 3_000;

/** Options of {@link TimeTickInterceptor}. */
export interface TimeTickInterceptorOptions {
  readonly ackManager: AckManager;
  readonly txnManager: TxnManager;
  readonly operator: TimeTickSyncOperator;
  /** How long {@link TimeTickInterceptor.gracefulClose} waits for open transactions. */
  readonly gracefulCloseTimeoutMs?: number;
  /**
   * The WAL term stamped as `_wt` together with `_tt` and `_lc` (one property copy per message);
   * undefined = leave `_wt` alone. TimeTick messages come stamped by their appender.
   */
  readonly walTerm?: bigint;
  readonly logger?: Logger;
}

/**
 * Per append of anything but a TimeTick:
 * 1. allocate a time tick from the ack manager (after the barrier `_btt` is confirmed, if set);
 * 2. stamp `_tt` and `_lc` (the ack manager's last confirmed id at allocation), and `_wt` when
 *    given a term;
 * 3. transactions: BeginTxn opens a session and gets its `_tx`; a body checks its session
 *    (open, same vchannel, not expired) and counts as in flight; CommitTxn / RollbackTxn move the
 *    session and wait for its bodies in flight;
 * 4. call `next`; then finish the transaction step and acknowledge the acker (success with the
 *    stored message and the session, or the error), and tell the sync operator;
 * 5. fill the append result: time tick, last confirmed id, txn context.
 *
 * A TimeTick (from the sync operator) gets no allocation: it already carries its tick. It cleans
 * up the sessions expired or finished as of that tick, then goes on.
 *
 * Owns the sync operator and the ack manager: {@link close} closes both.
 */
export class TimeTickInterceptor implements Interceptor {
  readonly name = 'timetick';
  readonly #acks: AckManager;
  readonly #txns: TxnManager;
  readonly #operator: TimeTickSyncOperator;
  readonly #gracefulCloseTimeoutMs: number;
  readonly #walTerm: bigint | undefined;
  readonly #logger: Logger;
  #closed: Promise<void> | undefined;

  constructor(options: TimeTickInterceptorOptions) {
    this.#acks = options.ackManager;
    this.#txns = options.txnManager;
    this.#operator = options.operator;
    this.#gracefulCloseTimeoutMs = options.gracefulCloseTimeoutMs ?? DEFAULT_TXN_GRACEFUL_CLOSE_TIMEOUT_MS;
    this.#walTerm = options.walTerm;
    this.#logger = options.logger ?? noopLogger;
  }

  doAppend(message: MutableMessage, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage> {
    if (message.messageType === MessageType.TimeTick) return this.#appendTimeTick(message, ctx, next);
    return this.#appendMessage(message, ctx, next);
  }

  /**
   * Stops new transactions and waits (at most `gracefulCloseTimeoutMs`) for the open ones to be
   * committed, rolled back or expired; appends keep working meanwhile.
   */
  async gracefulClose(): Promise<void> {
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(StreamingError.onShutdown(`open transactions still present after ${this.#gracefulCloseTimeoutMs} ms`)),
      this.#gracefulCloseTimeoutMs,
    );
    try {
      await this.#txns.gracefulClose({ signal: timeout.signal });
      this.#logger.info({}, 'txn manager closed gracefully');
    } catch (error) {
      this.#logger.warn({ err: error, openTxnCount: this.#txns.sessionCount }, 'txn manager graceful close gave up');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the sync operator (and its write-ahead buffer), then the ack manager. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#operator.close().finally(() => this.#acks.close());
    return this.#closed;
  }

  #appendTimeTick(message: MutableMessage, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage> {
    const timeTick = message.timeTick;
    if (timeTick === undefined) return Promise.reject(StreamingError.invalidArgument('_tt', 'a TimeTick message must carry its time tick'));
    this.#txns.cleanupTxnUntil(timeTick);
    ctx.onSettled(TIME_TICK_RESULT, message);
    return next(message, ctx);
  }

  #appendMessage(message: MutableMessage, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage> {
    const barrier = message.barrierTimeTick;
    let acker: Acker | undefined;
    try {
      // The common case takes its tick synchronously: no barrier, nothing waiting to allocate.
      if (barrier === undefined && ctx.signal?.aborted !== true) acker = this.#acks.tryAllocate();
    } catch (error) {
      return Promise.reject(error);
    }
    if (acker === undefined) return this.#allocateAndAppend(message, barrier, ctx, next);
    const stamped = this.#stamp(message, acker);
    if (isOutsideTxn(stamped)) return this.#appendPlain(stamped, acker, ctx, next);
    return this.#appendStamped(stamped, acker, ctx, next);
  }

  async #allocateAndAppend(message: MutableMessage, barrier: bigint | undefined, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage> {
    const acker = await this.#allocate(barrier, ctx.signal);
    return this.#appendStamped(this.#stamp(message, acker), acker, ctx, next);
  }

  #stamp(message: MutableMessage, acker: Acker): MutableMessage {
    return message.withAppendStamp(acker.timestamp, acker.lastConfirmedMessageId, this.#walTerm);
  }

  /**
   * A message outside any transaction, the hot path: no frame or reaction of its own. The chain
   * acknowledges the acker when the append settles, before it resolves to its caller (as
   * {@link #appendStamped} does), and after any redo's attempt.
   */
  #appendPlain(stamped: MutableMessage, acker: Acker, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage> {
    ctx.onSettled(this.#acknowledgeOnSettle, acker);
    // Read by the caller only once the append succeeded.
    ctx.result.timeTick = acker.timestamp;
    ctx.result.lastConfirmedMessageId = acker.lastConfirmedMessageId;
    return next(stamped, ctx);
  }

  /** Acknowledges the settled append's acker (state): a failure here is a bug, logged, never thrown. */
  readonly #acknowledgeOnSettle: SettleHook<Acker> = {
    appendSettled: (acker, stored, error) => {
      try {
        if (stored !== undefined) acker.ackSuccess(stored);
        else acker.ackError(error);
        this.#operator.notifyAcknowledged();
      } catch (bug) {
        this.#logger.error({ err: bug, timeTick: acker.timestamp.toString() }, 'acknowledging an append failed');
      }
    },
  };

  /** Any message with its tick: transactions step around the append (may wait for a commit's bodies). */
  async #appendStamped(message: MutableMessage, acker: Acker, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage> {
    let step: TxnStep | undefined;
    try {
      const prepared = prepareTxn(this.#txns, message, acker.timestamp, ctx.signal);
      step = prepared instanceof Promise ? await prepared : prepared;
    } catch (error) {
      acker.ackError(error);
      this.#operator.notifyAcknowledged();
      throw error;
    }
    if (step === undefined) return this.#appendPlain(message, acker, ctx, next);
    // Off the hot path: a state object per append is fine here.
    ctx.onSettled(this.#finishTxnOnSettle, { acker, step });
    return next(step.message, ctx);
  }

  /** Finishes the transaction step of the settled append, then acknowledges its acker. */
  readonly #finishTxnOnSettle: SettleHook<{ readonly acker: Acker; readonly step: TxnStep }> = {
    appendSettled: ({ acker, step }, stored, error, ctx) => {
      // The acker must learn the outcome whatever happens (an acker never acknowledged would hold
      // every later time tick back); the chain logs a failure of the step.
      try {
        step.finish(stored !== undefined);
      } finally {
        if (stored !== undefined) {
          acker.ackSuccess(stored, step.session);
          const txn = step.message.txnContext;
          ctx.result.timeTick = acker.timestamp;
          ctx.result.lastConfirmedMessageId = acker.lastConfirmedMessageId;
          if (txn !== undefined) ctx.result.txnContext = txn;
        } else {
          acker.ackError(error);
        }
        this.#operator.notifyAcknowledged();
      }
    },
  };

  #allocate(barrier: bigint | undefined, signal: AbortSignal | undefined): Promise<Acker> {
    if (barrier === undefined) return this.#acks.allocate({ signal });
    return this.#allocateAfterBarrier(barrier, signal);
  }

  async #allocateAfterBarrier(barrier: bigint, signal: AbortSignal | undefined): Promise<Acker> {
    await this.#operator.advancePast(barrier, signal);
    return this.#acks.allocateWithBarrier(barrier, { signal });
  }
}

/** Fills the result of a settled TimeTick append (state: the TimeTick message). */
const TIME_TICK_RESULT: SettleHook<MutableMessage> = {
  appendSettled: (message, stored, _error, ctx) => {
    if (stored === undefined) return;
    const lc = message.lastConfirmed;
    ctx.result.timeTick = message.timeTick;
    ctx.result.lastConfirmedMessageId = lc === undefined || lc === 'self' ? stored.messageId : lc;
  },
};

/**
 * True for a message no transaction step applies to: not BeginTxn / CommitTxn / RollbackTxn and
 * no `_tx`. A malformed value reads as false, so `prepareTxn` reports it and the acker learns it.
 */
function isOutsideTxn(message: MutableMessage): boolean {
  try {
    const type = message.messageType;
    if (type === MessageType.BeginTxn || type === MessageType.CommitTxn || type === MessageType.RollbackTxn) return false;
    return message.txnContext === undefined;
  } catch {
    return false;
  }
}
