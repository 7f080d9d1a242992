/**
 * The scanner's transaction stage (Milvus `TxnBuffer`, reference/milvus-node.md §4.3): holds the
 * messages of open transactions and turns each committed one into a single
 * {@link ImmutableTxnMessage}.
 */
import { type Logger, noopLogger } from '../../../shared/log/index.js';
import { type ImmutableMessage, MessageType } from '../../../shared/message/index.js';
import type { ImmutableTxnMessage, ScannedMessage } from './immutable-txn-message.js';
import { TxnMessageBuilder } from './txn-message-builder.js';

/** Options of {@link TxnBuffer}. */
export interface TxnBufferOptions {
  /** Where dropped messages are reported (warn) and txn outcomes traced (debug). Silent by default. */
  readonly logger?: Logger;
}

/** Counters of what a {@link TxnBuffer} did, for metrics and tests. */
export interface TxnBufferStats {
  committed: number;
  rolledBack: number;
  expired: number;
  /** Body messages of a transaction that was not open. */
  droppedBodies: number;
  /** Commit messages of a transaction that was not open. */
  droppedCommits: number;
  /** BeginTxn messages of a transaction that was already open. */
  repeatedBegins: number;
}

/**
 * Input: batches of messages released by the reorder buffer, each batch ascending by time tick
 * and entirely ≤ the batch's time tick (the watermark). Output, per batch, in input order:
 *
 * - a message without `_tx` passes through unchanged (autocommit);
 * - BeginTxn opens a builder; a second BeginTxn of an open transaction is ignored (warn);
 * - a body joins its builder; a body of an unknown transaction is dropped (warn), which happens
 *   after the scanner started in the middle of a transaction or the transaction expired;
 * - CommitTxn emits one {@link ImmutableTxnMessage} at the commit's position and forgets the
 *   builder; a commit of an unknown transaction is dropped (warn: a repeated commit, or the
 *   begin was never seen);
 * - RollbackTxn drops the builder;
 * - after the batch, every builder whose `expiredTimeTick` ≤ the batch's time tick is dropped:
 *   the write side can no longer commit it.
 */
export class TxnBuffer {
  readonly #builders = new Map<bigint, TxnMessageBuilder>();
  readonly #logger: Logger;
  readonly #stats: TxnBufferStats = {
    committed: 0,
    rolledBack: 0,
    expired: 0,
    droppedBodies: 0,
    droppedCommits: 0,
    repeatedBegins: 0,
  };
  #bytes = 0;

  constructor(options: TxnBufferOptions = {}) {
    this.#logger = options.logger ?? noopLogger;
  }

  /** Number of open transactions. */
  get openTxnCount(): number {
    return this.#builders.size;
  }

  /** Estimated bytes held by open transactions. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A snapshot of the counters. */
  get stats(): Readonly<TxnBufferStats> {
    return { ...this.#stats };
  }

  /**
   * Handles one batch released at watermark `timeTick`; returns what consumers may see now, in
   * order.
   */
  handle(messages: readonly ImmutableMessage[], timeTick: bigint): ScannedMessage[] {
    const out: ScannedMessage[] = [];
    for (const message of messages) {
      const txn = message.txnContext;
      if (txn === undefined) {
        out.push(message);
        continue;
      }
      switch (message.messageType) {
        case MessageType.BeginTxn:
          this.#begin(message, txn.txnId);
          break;
        case MessageType.CommitTxn: {
          const committed = this.#commit(message, txn.txnId);
          if (committed !== undefined) out.push(committed);
          break;
        }
        case MessageType.RollbackTxn:
          this.#rollback(message, txn.txnId);
          break;
        default:
          this.#body(message, txn.txnId);
      }
    }
    this.#dropExpired(timeTick);
    return out;
  }

  /**
   * The open transactions, oldest begin first. Recovery reads them to rebuild the write side's
   * view of transactions that were persisted but not yet committed.
   */
  uncommittedBuilders(): TxnMessageBuilder[] {
    return [...this.#builders.values()].sort((a, b) => a.begin.messageId.compare(b.begin.messageId));
  }

  #begin(message: ImmutableMessage, txnId: bigint): void {
    if (this.#builders.has(txnId)) {
      this.#stats.repeatedBegins++;
      this.#logger.warn({ txnId: txnId.toString(), messageId: message.messageId.toString() }, 'txn already open, repeated begin ignored');
      return;
    }
    const builder = new TxnMessageBuilder(message);
    this.#builders.set(txnId, builder);
    this.#bytes += builder.bytes;
  }

  #body(message: ImmutableMessage, txnId: bigint): void {
    const builder = this.#builders.get(txnId);
    if (builder === undefined) {
      this.#stats.droppedBodies++;
      this.#logger.warn({ txnId: txnId.toString(), messageId: message.messageId.toString() }, 'txn not open, body message dropped');
      return;
    }
    builder.add(message);
    this.#bytes += message.estimateSize();
  }

  #commit(message: ImmutableMessage, txnId: bigint): ImmutableTxnMessage | undefined {
    const builder = this.#remove(txnId);
    if (builder === undefined) {
      this.#stats.droppedCommits++;
      this.#logger.warn({ txnId: txnId.toString(), messageId: message.messageId.toString() }, 'txn not open, commit dropped');
      return undefined;
    }
    this.#stats.committed++;
    this.#logger.debug({ txnId: txnId.toString(), messageId: message.messageId.toString(), bodies: builder.bodies.length }, 'txn committed');
    return builder.build(message);
  }

  #rollback(message: ImmutableMessage, txnId: bigint): void {
    if (this.#remove(txnId) !== undefined) {
      this.#stats.rolledBack++;
      this.#logger.debug({ txnId: txnId.toString(), messageId: message.messageId.toString() }, 'txn rolled back, dropped');
    }
  }

  #dropExpired(timeTick: bigint): void {
    for (const [txnId, builder] of this.#builders) {
      const expiredAt = builder.expiredTimeTick;
      if (expiredAt <= timeTick) {
        this.#remove(txnId);
        this.#stats.expired++;
        this.#logger.debug({ txnId: txnId.toString(), expiredTimeTick: expiredAt.toString(), timeTick: timeTick.toString() }, 'txn expired, dropped');
      }
    }
  }

  #remove(txnId: bigint): TxnMessageBuilder | undefined {
    const builder = this.#builders.get(txnId);
    if (builder === undefined) return undefined;
    this.#builders.delete(txnId);
    this.#bytes -= builder.bytes;
    return builder;
  }
}
