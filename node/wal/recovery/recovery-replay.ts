/**
 * The replay a read-write WAL runs when it opens (Milvus `RecoverRecoveryStorage`,
 * reference/milvus-node.md §2.2 step 5 and §7): read the backend from the checkpoint up to the
 * recovery barrier (the first time tick this incarnation just wrote) and rebuild what the write
 * side must know about the past: the transactions that were persisted but are neither committed,
 * rolled back nor expired.
 */
import {
  deliverStartFrom,
  type ImmutableMessage,
  type Logger,
  type MessageId,
  MessageType,
  noopLogger,
} from '../../../shared/index.js';
import type { WalBackend } from '../backend/index.js';
import { ReorderByTimeTickBuffer, TxnBuffer, type TxnMessageBuilder } from '../utility/index.js';

/** Messages the recovery scanner reads ahead (a long replay is a bulk read). */
export const DEFAULT_RECOVERY_READ_AHEAD = 1024;

/** Options of {@link replayRecovery}. */
export interface RecoveryReplayOptions {
  /** Replay start (inclusive): the checkpoint; undefined = nothing to replay (empty log). */
  readonly from: MessageId | undefined;
  /** The first time tick of this incarnation, already in the backend: the replay ends there. */
  readonly barrier: ImmutableMessage;
  readonly signal?: AbortSignal | undefined;
  readonly readAheadBufferSize?: number;
  readonly logger?: Logger;
}

/** What the replay found. */
export interface RecoveryResult {
  /** Transactions still open at the barrier, oldest begin first (for the txn manager). */
  readonly uncommitted: readonly TxnMessageBuilder[];
  /** Messages read, the barrier included. */
  readonly replayedMessages: number;
}

/**
 * Replays `[from, barrier]` the way a scanner would (reorder by time tick, the TimeTick messages
 * as watermarks, transaction assembly with expiry), so a transaction counts as open exactly when
 * a reader would still be waiting for its commit. Messages are not filtered by the checkpoint's
 * time tick: a transaction's begin and bodies may be older than it.
 *
 * Why the barrier is a safe end: it was appended after the backend was opened at this term, so
 * every message of earlier incarnations has a smaller id, and its time tick is greater than all of
 * theirs (the TSO is global), so it releases everything the reorder buffer holds.
 *
 * @throws the backend scanner's StreamingError (UNRECOVERABLE when `from` was truncated, …) or
 *   the abort reason of `signal`.
 */
export async function replayRecovery(backend: Pick<WalBackend, 'read' | 'channel'>, options: RecoveryReplayOptions): Promise<RecoveryResult> {
  const { barrier, from } = options;
  if (from === undefined || !from.lt(barrier.messageId)) return { uncommitted: [], replayedMessages: 0 };
  const logger = options.logger ?? noopLogger;
  const reorder = new ReorderByTimeTickBuffer();
  const txns = new TxnBuffer({ logger });
  const scanner = backend.read({
    name: `${backend.channel.name}/${backend.channel.term}/recovery`,
    deliverPolicy: deliverStartFrom(from),
    readAheadBufferSize: options.readAheadBufferSize ?? DEFAULT_RECOVERY_READ_AHEAD,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  let replayed = 0;
  try {
    for await (const message of scanner) {
      replayed++;
      if (!message.messageId.lt(barrier.messageId)) break;
      if (!message.hasTimeTick) {
        logger.warn({ messageId: message.messageId.toString() }, 'recovery skipped a message without time tick');
        continue;
      }
      if (message.messageType === MessageType.TimeTick) {
        txns.handle(reorder.popUntilTimeTick(message.timeTick), message.timeTick);
        continue;
      }
      const pushed = reorder.push(message);
      if (!pushed.accepted) logger.warn({ messageId: message.messageId.toString(), reason: pushed.reason }, 'recovery dropped a message');
    }
  } finally {
    await scanner.close();
  }
  txns.handle(reorder.popUntilTimeTick(barrier.timeTick), barrier.timeTick);
  return { uncommitted: txns.uncommittedBuilders(), replayedMessages: replayed };
}
