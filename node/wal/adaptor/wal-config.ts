/**
 * Tuning of the node's WAL (one config for every pchannel of a node), with Milvus's defaults and
 * the mapping from the node's `WalConfig`.
 */
import {
  type BackoffOptions,
  DEFAULT_TXN_KEEPALIVE_MS,
  DEFAULT_WAL_MAX_MESSAGE_BYTES,
  DEFAULT_WAL_RETENTION_MAX_AGE_MS,
  DEFAULT_WAL_RETENTION_MAX_BYTES,
  DEFAULT_WAL_TIME_TICK_INTERVAL_MS,
  type WalConfig,
} from '../../../shared/index.js';
import { DEFAULT_SYNC_DELAY_MS, DEFAULT_TXN_GRACEFUL_CLOSE_TIMEOUT_MS, FIRST_TIME_TICK_BACKOFF } from '../interceptors/index.js';
import {
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_RECOVERY_READ_AHEAD,
  DEFAULT_RETENTION_INTERVAL_MS,
  DEFAULT_RETENTION_MAX_SCAN,
} from '../recovery/index.js';
import {
  DEFAULT_PENDING_THRESHOLD,
  DEFAULT_SCANNER_BACKOFF,
  DEFAULT_SCANNER_READ_AHEAD,
  type WalScannerTuning,
} from '../scanner/index.js';

/** Milvus `streaming.walWriteAheadBuffer.capacity`. */
export const DEFAULT_WAB_CAPACITY_BYTES = 64 * 1024 * 1024;
/** Milvus `streaming.walWriteAheadBuffer.keepalive`. */
export const DEFAULT_WAB_KEEPALIVE_MS = 30_000;
/** Milvus's retry of impl appends: 10 ms, doubling, at most 5 s, forever. */
export const DEFAULT_APPEND_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 10, maxMs: 5_000, multiplier: 2, jitter: 0.2 });

/** Every knob of a WAL, resolved. */
export interface WalAdaptorConfig {
  /** Largest accepted message: payload + property keys and values, in bytes. */
  readonly maxMessageBytes: number;
  /** Longest gap between time ticks of an idle WAL. */
  readonly timeTickIntervalMs: number;
  /** Delay from an acknowledged append to the time tick covering it (0 = next macrotask). */
  readonly syncDelayMs: number;
  /** Write-ahead buffer (tailing readers): bytes kept and age of entries. */
  readonly wabCapacityBytes: number;
  readonly wabKeepaliveMs: number;
  /** Keepalive of a BeginTxn that asks for none. */
  readonly txnDefaultKeepaliveMs: bigint;
  /** How long close waits for open transactions. */
  readonly txnGracefulCloseTimeoutMs: number;
  /** Period of checkpoint saves (also saved on close). */
  readonly checkpointIntervalMs: number;
  /** Retention limits (0 disables one) and the period of retention passes. */
  readonly retentionMaxAgeMs: number;
  readonly retentionMaxBytes: number;
  readonly retentionIntervalMs: number;
  readonly retentionMaxScanPerRun: number;
  /** Retry of transient (INNER) backend append failures. */
  readonly appendBackoff: Readonly<Partial<BackoffOptions>>;
  /** Retry of the first time tick at open. */
  readonly firstTimeTickBackoff: Readonly<Partial<BackoffOptions>>;
  /** Read-ahead of the recovery replay. */
  readonly recoveryReadAheadBufferSize: number;
  /** Scanners: backend read-ahead while catching up, queue to the consumer, retry of backend reads. */
  readonly scannerReadAheadBufferSize: number;
  readonly scannerPendingThreshold: number;
  readonly scannerBackoff: Readonly<Partial<BackoffOptions>>;
}

/** What callers may set; everything else takes its default. */
export type WalAdaptorOptions = Partial<WalAdaptorConfig>;

/** The defaults (Milvus 2.6's where it has one). */
export const DEFAULT_WAL_ADAPTOR_CONFIG: WalAdaptorConfig = Object.freeze({
  maxMessageBytes: DEFAULT_WAL_MAX_MESSAGE_BYTES,
  timeTickIntervalMs: DEFAULT_WAL_TIME_TICK_INTERVAL_MS,
  syncDelayMs: DEFAULT_SYNC_DELAY_MS,
  wabCapacityBytes: DEFAULT_WAB_CAPACITY_BYTES,
  wabKeepaliveMs: DEFAULT_WAB_KEEPALIVE_MS,
  txnDefaultKeepaliveMs: DEFAULT_TXN_KEEPALIVE_MS,
  txnGracefulCloseTimeoutMs: DEFAULT_TXN_GRACEFUL_CLOSE_TIMEOUT_MS,
  checkpointIntervalMs: DEFAULT_CHECKPOINT_INTERVAL_MS,
  retentionMaxAgeMs: DEFAULT_WAL_RETENTION_MAX_AGE_MS,
  retentionMaxBytes: DEFAULT_WAL_RETENTION_MAX_BYTES,
  retentionIntervalMs: DEFAULT_RETENTION_INTERVAL_MS,
  retentionMaxScanPerRun: DEFAULT_RETENTION_MAX_SCAN,
  appendBackoff: DEFAULT_APPEND_BACKOFF,
  firstTimeTickBackoff: FIRST_TIME_TICK_BACKOFF,
  recoveryReadAheadBufferSize: DEFAULT_RECOVERY_READ_AHEAD,
  scannerReadAheadBufferSize: DEFAULT_SCANNER_READ_AHEAD,
  scannerPendingThreshold: DEFAULT_PENDING_THRESHOLD,
  scannerBackoff: DEFAULT_SCANNER_BACKOFF,
});

/**
 * Fills in defaults and checks the numbers.
 *
 * @throws RangeError for a value out of range (a configuration bug, found at startup).
 */
export function resolveWalAdaptorConfig(options: WalAdaptorOptions = {}): WalAdaptorConfig {
  const config: WalAdaptorConfig = { ...DEFAULT_WAL_ADAPTOR_CONFIG, ...stripUndefined(options) };
  const positive = ['maxMessageBytes', 'timeTickIntervalMs', 'checkpointIntervalMs', 'retentionIntervalMs'] as const;
  for (const key of positive) checkNumber(key, config[key], (v) => v > 0, '> 0');
  const nonNegative = ['syncDelayMs', 'wabCapacityBytes', 'wabKeepaliveMs', 'txnGracefulCloseTimeoutMs', 'retentionMaxAgeMs', 'retentionMaxBytes'] as const;
  for (const key of nonNegative) checkNumber(key, config[key], (v) => v >= 0, '>= 0');
  const counts = ['retentionMaxScanPerRun', 'recoveryReadAheadBufferSize', 'scannerReadAheadBufferSize', 'scannerPendingThreshold'] as const;
  for (const key of counts) checkNumber(key, config[key], (v) => Number.isSafeInteger(v) && v >= 1, 'an integer >= 1');
  if (typeof config.txnDefaultKeepaliveMs !== 'bigint' || config.txnDefaultKeepaliveMs < 1n) {
    throw new RangeError(`wal config txnDefaultKeepaliveMs must be a bigint >= 1, got ${String(config.txnDefaultKeepaliveMs)}`);
  }
  return Object.freeze(config);
}

/** The WAL part of the node's config (`Config.wal`) as adaptor options. */
export function walAdaptorOptionsFrom(wal: WalConfig): WalAdaptorOptions {
  return {
    maxMessageBytes: wal.maxMessageBytes,
    timeTickIntervalMs: wal.timeTickIntervalMs,
    retentionMaxAgeMs: wal.retention.maxAgeMs,
    retentionMaxBytes: wal.retention.maxBytes,
  };
}

/** The scanner part of the config. */
export function scannerTuningOf(config: WalAdaptorConfig): Omit<WalScannerTuning, 'logger'> {
  return {
    readAheadBufferSize: config.scannerReadAheadBufferSize,
    pendingThreshold: config.scannerPendingThreshold,
    backoff: config.scannerBackoff,
  };
}

function checkNumber(key: string, value: number, ok: (v: number) => boolean, expected: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new RangeError(`wal config ${key} must be ${expected}, got ${String(value)}`);
  }
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) if (options[key] !== undefined) out[key] = options[key];
  return out;
}
