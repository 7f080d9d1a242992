/**
 * Collects one transaction's messages while the scanner waits for its commit (Milvus
 * `ImmutableTxnMessageBuilder`).
 */
import {
  type ImmutableMessage,
  isInfiniteKeepalive,
  MessageType,
  type TxnContext,
} from '../../../shared/message/index.js';
import { addPhysicalMs, MAX_TS } from '../../../shared/tso/index.js';
import { ImmutableTxnMessage } from './immutable-txn-message.js';

/**
 * The BeginTxn and body messages of one open transaction.
 *
 * Expiry follows the write side's lease: a transaction stays alive for `keepalive` after its last
 * body (or its begin, before any body), measured on the physical part of the hybrid time tick
 * (`addPhysicalMs`). A transaction whose {@link expiredTimeTick} is ≤ a time tick the scanner has
 * reached can no longer commit, because the write side rejects a commit at or past that tick.
 * The keepalive is the one stamped on the BeginTxn (the node resolves the producer's 0 to its
 * default before appending); an infinite keepalive never expires.
 */
export class TxnMessageBuilder {
  readonly begin: ImmutableMessage;
  readonly txn: TxnContext;
  readonly #bodies: ImmutableMessage[] = [];
  #bytes: number;

  /** @throws RangeError when `begin` is not a BeginTxn carrying `_tx`. */
  constructor(begin: ImmutableMessage) {
    const txn = begin.txnContext;
    if (begin.messageType !== MessageType.BeginTxn || txn === undefined) {
      throw new RangeError(`txn builder needs a BeginTxn message with a txn context, got ${begin.toString()}`);
    }
    this.begin = begin;
    this.txn = txn;
    this.#bytes = begin.estimateSize();
  }

  /** The transaction id. */
  get txnId(): bigint {
    return this.txn.txnId;
  }

  /** The body messages collected so far, in arrival order. */
  get bodies(): readonly ImmutableMessage[] {
    return this.#bodies;
  }

  /** Estimated bytes held (begin + bodies). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The time tick at which the transaction is expired: last activity + keepalive. */
  get expiredTimeTick(): bigint {
    if (isInfiniteKeepalive(this.txn)) return MAX_TS;
    const last = this.#bodies[this.#bodies.length - 1] ?? this.begin;
    return addPhysicalMs(last.timeTick, this.txn.keepaliveMs);
  }

  /** Adds a body message. */
  add(body: ImmutableMessage): void {
    this.#bodies.push(body);
    this.#bytes += body.estimateSize();
  }

  /** Assembles the committed transaction; see {@link ImmutableTxnMessage.assemble}. */
  build(commit: ImmutableMessage): ImmutableTxnMessage {
    return ImmutableTxnMessage.assemble(this.begin, this.#bodies.slice(), commit);
  }
}
