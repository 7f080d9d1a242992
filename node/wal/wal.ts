/**
 * The node-side WAL (Milvus `wal.WAL`): a backend wrapped with fencing, availability, append
 * retry, interceptors (lock, time tick, txn) and scanners (reorder, txn assembly, vchannel and
 * deliver filters, catch-up ↔ tailing). The produce/consume services and the WAL manager use
 * only this interface.
 */
import type { StreamingError } from '../../shared/errors/index.js';
import type {
  DeliverFilter,
  DeliverPolicy,
  MessageId,
  MutableMessage,
  PChannelInfo,
  TxnContext,
} from '../../shared/message/index.js';
import type { ScannedMessage } from './utility/index.js';

/** What an append returns (Milvus `AppendResult`). */
export interface AppendResult {
  readonly messageId: MessageId;
  /** Reading from here re-delivers everything with a larger time tick (safe resume). */
  readonly lastConfirmedMessageId: MessageId;
  readonly timeTick: bigint;
  /** Set for BeginTxn (the new txn) and for messages of a txn. */
  readonly txnContext?: TxnContext;
}

/** Options of {@link Wal.read}. */
export interface WalReadOptions {
  /** Names the scanner in logs and metrics. */
  readonly name?: string;
  /** Only this vchannel's messages (plus messages without `_vc`, which reach every vchannel). Undefined = all. */
  readonly vchannel?: string;
  readonly deliverPolicy: DeliverPolicy;
  /** AND-combined. */
  readonly filters?: readonly DeliverFilter[];
  /** Ends the scanner. */
  readonly signal?: AbortSignal;
}

/**
 * One reader: messages in strictly increasing time tick order (a txn counts once, at its commit
 * tick, delivered as one {@link ScannedMessage} holding begin, bodies and commit), interleaved with
 * time tick messages (non-decreasing) that advance idle readers. Memory stays bounded: nothing is
 * read ahead beyond a small queue while the consumer is slow.
 */
export interface WalScanner extends AsyncIterable<ScannedMessage> {
  readonly name: string;
  /** Ends the scanner; iteration returns done. Idempotent. */
  close(): Promise<void>;
  /** Resolves when the scanner ended: undefined after close, else the error that ended it. */
  closed(): Promise<StreamingError | undefined>;
}

/** Per-WAL metrics for `CollectStatus` (Milvus `StreamingNodeRWWALMetrics`). */
export interface WalMetrics {
  readonly channel: PChannelInfo;
  /** Read-write only: the latest confirmed (MVCC) time tick. */
  readonly mvccTimeTick?: bigint;
  /** Read-write only: the time tick recovery replayed up to when the WAL opened. */
  readonly recoveryTimeTick?: bigint;
}

export interface Wal {
  readonly channel: PChannelInfo;
  /** False once fenced, closing or closed. */
  isAvailable(): boolean;
  /** Aborted (with the StreamingError reason) when the WAL becomes unavailable. */
  readonly availability: AbortSignal;
  /**
   * Appends one message after the interceptors stamp it (`_wt`, `_tt`, `_lc`, `_tx`).
   * Rejects with CHANNEL_FENCED (never landed), ON_SHUTDOWN, INVAILD_ARGUMENT (bad message),
   * TRANSACTION_EXPIRED / INVALID_TRANSACTION_STATE (txn), or the abort reason.
   */
  append(message: MutableMessage, options?: { signal?: AbortSignal }): Promise<AppendResult>;
  read(options: WalReadOptions): WalScanner;
  metrics(): WalMetrics;
  /** Idempotent; closes scanners first. */
  close(): Promise<void>;
}
