/**
 * Pure data structures of the node's WAL (no I/O): composed by the time tick interceptor
 * (ack manager, write-ahead buffer) and the scanner (reorder buffer, txn buffer, write-ahead
 * buffer reader). See reference/milvus-node.md §3.4, §4.
 */
export { MinHeap } from './min-heap.js';
export {
  ReorderByTimeTickBuffer,
  type ReorderBufferOptions,
  type ReorderPushResult,
  type ReorderRejectReason,
} from './reorder-buffer.js';
export { ImmutableTxnMessage, isImmutableTxnMessage, type ScannedMessage } from './immutable-txn-message.js';
export { TxnMessageBuilder } from './txn-message-builder.js';
export { TxnBuffer, type TxnBufferOptions, type TxnBufferStats } from './txn-buffer.js';
export { Acker, type AckDetail, type AckKind, type AckOutcome, type AckTxnSession } from './acker.js';
export { AckDetails } from './ack-details.js';
export { LastConfirmedManager } from './last-confirmed-manager.js';
export { AckManager, type AckManagerCallOptions, type AckManagerOptions } from './ack-manager.js';
export { EvictedError, isEvictedError } from './evicted-error.js';
export { WriteAheadBuffer, type WriteAheadBufferOptions } from './write-ahead-buffer.js';
export { WriteAheadBufferReader, type WriteAheadReadOptions } from './write-ahead-buffer-reader.js';
