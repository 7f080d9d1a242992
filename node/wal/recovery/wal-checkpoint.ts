/**
 * The recovery checkpoint of one WAL (Milvus `WALCheckpoint`, reference/milvus-node.md §7): a
 * position from which replaying the WAL rebuilds the node's in-memory state (here: the
 * transactions persisted but not yet committed). Stored as the binary proto
 * `milvus.proto.streaming.WALCheckpoint` in the backend's checkpoint slot.
 */
import {
  decodeProto,
  encodeProto,
  type Logger,
  MessageId,
  type MessageIdProtoLike,
  StreamingError,
} from '../../../shared/index.js';
import type { WalBackend } from '../backend/index.js';

/** The proto type the checkpoint is stored as. */
export const WAL_CHECKPOINT_PROTO = 'milvus.proto.streaming.WALCheckpoint';

/** Milvus `RecoveryMagicStreamingInitialized`: the pchannel was initialised by the streaming service. */
export const RECOVERY_MAGIC_STREAMING_INITIALIZED = 1n;

/** The decoded proto, as `decodeProto` returns it (int64 as decimal strings). */
interface WalCheckpointProto {
  readonly message_id?: MessageIdProtoLike | null;
  readonly time_tick: string;
  readonly recovery_magic: string;
}

/** A decoded checkpoint. */
export interface WalCheckpoint {
  /** Replay starts here (inclusive): the last confirmed id of the newest time tick seen. */
  readonly messageId: MessageId;
  /** The time tick the state was taken at. */
  readonly timeTick: bigint;
  readonly recoveryMagic: bigint;
}

/** Builds a checkpoint (with the streaming-initialised magic). */
export function walCheckpoint(messageId: MessageId, timeTick: bigint): WalCheckpoint {
  return Object.freeze({ messageId, timeTick, recoveryMagic: RECOVERY_MAGIC_STREAMING_INITIALIZED });
}

/** The binary proto form. */
export function encodeWalCheckpoint(checkpoint: WalCheckpoint): Buffer {
  return encodeProto(WAL_CHECKPOINT_PROTO, {
    message_id: checkpoint.messageId.toProto(),
    time_tick: checkpoint.timeTick,
    recovery_magic: checkpoint.recoveryMagic,
  });
}

/**
 * Reads the binary proto form.
 *
 * @throws StreamingError INVAILD_ARGUMENT when the bytes are not a checkpoint with a message id.
 */
export function decodeWalCheckpoint(bytes: Uint8Array): WalCheckpoint {
  const proto = decodeProto<WalCheckpointProto>(WAL_CHECKPOINT_PROTO, bytes);
  if (proto.message_id === null || proto.message_id === undefined) {
    throw StreamingError.invalidArgument('checkpoint.message_id', 'is missing');
  }
  return Object.freeze({
    messageId: MessageId.fromProto(proto.message_id, 'checkpoint.message_id'),
    timeTick: BigInt(proto.time_tick),
    recoveryMagic: BigInt(proto.recovery_magic),
  });
}

/**
 * The checkpoint stored in `backend`, undefined if there is none. A checkpoint that cannot be
 * decoded is logged and ignored: recovery then replays the whole retained log, which is slower
 * but rebuilds the same state. Storage errors propagate.
 */
export async function loadWalCheckpoint(backend: Pick<WalBackend, 'loadCheckpoint'>, logger: Logger): Promise<WalCheckpoint | undefined> {
  const bytes = await backend.loadCheckpoint();
  if (bytes === undefined) return undefined;
  try {
    return decodeWalCheckpoint(bytes);
  } catch (error) {
    logger.error({ err: error, bytes: bytes.length }, 'stored wal checkpoint is unreadable, replaying the whole retained log');
    return undefined;
  }
}

/** The later of two checkpoints, field by field (a checkpoint never moves back; see the keeper). */
export function laterCheckpoint(a: WalCheckpoint | undefined, b: WalCheckpoint): WalCheckpoint {
  if (a === undefined) return b;
  const messageId = a.messageId.gt(b.messageId) ? a.messageId : b.messageId;
  const timeTick = a.timeTick > b.timeTick ? a.timeTick : b.timeTick;
  return messageId === a.messageId && timeTick === a.timeTick ? a : walCheckpoint(messageId, timeTick);
}

/** Log form. */
export function formatWalCheckpoint(checkpoint: WalCheckpoint | undefined): string {
  return checkpoint === undefined ? 'none' : `${checkpoint.messageId.toString()}@${checkpoint.timeTick}`;
}
