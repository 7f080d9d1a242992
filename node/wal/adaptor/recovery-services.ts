/**
 * The background keepers of a read-write WAL's recovery state: periodic checkpoint saves and
 * retention, wired to the WAL's write-ahead buffer and persisted checkpoint.
 */
import type { Logger, StreamingError } from '../../../shared/index.js';
import type { WalBackend } from '../backend/index.js';
import { CheckpointKeeper, type WalCheckpoint, walCheckpoint, WalRetention } from '../recovery/index.js';
import type { WriteAheadBuffer } from '../utility/index.js';
import type { WalAdaptorConfig } from './wal-config.js';

/** What {@link buildRecoveryServices} needs. */
export interface RecoveryServicesParams {
  readonly backend: WalBackend;
  readonly writeAheadBuffer: WriteAheadBuffer;
  /** The checkpoint found at open. */
  readonly persisted: WalCheckpoint | undefined;
  readonly config: WalAdaptorConfig;
  readonly onFenced: (error: StreamingError) => void;
  readonly logger: Logger;
  readonly now?: (() => number) | undefined;
}

/** The two keepers; neither runs before `start()`. */
export interface RecoveryServices {
  readonly checkpoints: CheckpointKeeper;
  readonly retention: WalRetention;
}

/**
 * The checkpoint is the newest time tick's (last confirmed id, time tick), persisted or not: its
 * last confirmed id only names durable messages and never passes the begin of an open transaction,
 * so replay from it rebuilds the open transactions. Retention never removes records at or after
 * the persisted checkpoint.
 */
export function buildRecoveryServices(params: RecoveryServicesParams): RecoveryServices {
  const { backend, writeAheadBuffer, config, onFenced, logger } = params;
  const checkpoints = new CheckpointKeeper({
    backend,
    current: () => {
      const tick = writeAheadBuffer.lastTimeTickMessage;
      return walCheckpoint(tick.lastConfirmedMessageId, tick.timeTick);
    },
    persisted: params.persisted,
    intervalMs: config.checkpointIntervalMs,
    onFenced,
    logger,
  });
  const retention = new WalRetention({
    backend,
    maxAgeMs: config.retentionMaxAgeMs,
    maxBytes: config.retentionMaxBytes,
    intervalMs: config.retentionIntervalMs,
    maxScanPerRun: config.retentionMaxScanPerRun,
    protectedFrom: () => checkpoints.persisted?.messageId,
    onFenced,
    logger,
    ...(params.now !== undefined ? { now: params.now } : {}),
  });
  return { checkpoints, retention };
}
