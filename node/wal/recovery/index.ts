/**
 * Recovery of a read-write WAL (reference/milvus-node.md §7): the checkpoint (codec and periodic
 * persistence), the replay that rebuilds open transactions at open, and retention, which never
 * removes what recovery still needs.
 */
export {
  decodeWalCheckpoint,
  encodeWalCheckpoint,
  formatWalCheckpoint,
  laterCheckpoint,
  loadWalCheckpoint,
  RECOVERY_MAGIC_STREAMING_INITIALIZED,
  WAL_CHECKPOINT_PROTO,
  type WalCheckpoint,
  walCheckpoint,
} from './wal-checkpoint.js';
export { CheckpointKeeper, type CheckpointKeeperOptions, DEFAULT_CHECKPOINT_INTERVAL_MS } from './checkpoint-keeper.js';
export { DEFAULT_RECOVERY_READ_AHEAD, type RecoveryReplayOptions, type RecoveryResult, replayRecovery } from './recovery-replay.js';
export {
  DEFAULT_RETENTION_INTERVAL_MS,
  DEFAULT_RETENTION_MAX_SCAN,
  type RetentionLimits,
  type RetentionResult,
  WalRetention,
  type WalRetentionOptions,
} from './retention.js';
