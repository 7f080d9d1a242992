/**
 * The two modes of the switchable scanner (Milvus `switchableScanner`, reference/milvus-node.md
 * §4.4) and what they share. A mode scanner yields raw WAL messages; when it wants the other mode
 * it hands over a replacement, which the {@link SwitchableScanner} installs.
 */
import { StreamingCode, StreamingError } from '../../../shared/errors/index.js';
import type { Logger } from '../../../shared/log/index.js';
import type { DeliverPolicy, ImmutableMessage } from '../../../shared/message/index.js';
import type { BackoffOptions } from '../../../shared/util/index.js';
import type { WalBackend } from '../backend/index.js';
import { isEvictedError, type WriteAheadBuffer, type WriteAheadBufferReader } from '../utility/index.js';

/** Where the scanner reads from: the backend (catch-up) or the write-ahead buffer (tailing). */
export type ScannerMode = 'catchup' | 'tailing';

/**
 * One result of {@link ModeScanner.next}: a chunk of messages (in order), a replacement scanner,
 * or both (a catch-up scanner forwards everything up to the TimeTick it switched on, then hands
 * over). Chunks let the stages above work through many messages per `await`.
 */
export interface ScanStep {
  /** May be empty only together with `switchTo`. */
  readonly messages: readonly ImmutableMessage[];
  readonly switchTo?: ModeScanner;
}

/** A scanner in one mode. Used by one caller at a time. */
export interface ModeScanner {
  readonly mode: ScannerMode;
  /** Messages read ahead from the backend and not yet returned (0 when tailing). */
  readonly bufferedCount: number;
  /**
   * The next step: whatever is available now, waiting only when nothing is. A chunk holds at
   * most the read-ahead size. Rejects with a StreamingError that ends the whole scanner, or with
   * the abort reason once the context's signal aborted.
   */
  next(): Promise<ScanStep>;
  /** Releases what the scanner holds (the backend scanner). Idempotent. */
  close(): Promise<void>;
}

/** What both modes need; built once per switchable scanner. */
export interface ModeScannerContext {
  readonly name: string;
  readonly backend: WalBackend;
  /** Undefined for read-only WALs: the catch-up scanner then tails the backend itself. */
  readonly writeAheadBuffer: WriteAheadBuffer | undefined;
  readonly readAheadBufferSize: number;
  /** Backoff of backend open/read retries. */
  readonly backoff: Partial<BackoffOptions>;
  /** Aborted when the scanner closes; every wait observes it. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Builds a tailing scanner continuing after `lastConsumed`. */
  toTailing(reader: WriteAheadBufferReader, lastConsumed: ImmutableMessage): ModeScanner;
  /** Builds a catch-up scanner reading `policy` and dropping ticks ≤ `exclusiveStartTimeTick`. */
  toCatchup(policy: DeliverPolicy, exclusiveStartTimeTick: bigint): ModeScanner;
}

/** Milvus `newScannerReadBackoffTimer`: 100 ms, ×2, at most 5 s. */
export const DEFAULT_SCANNER_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 100,
  multiplier: 2,
  maxMs: 5_000,
  jitter: 0.2,
});

/**
 * Whether a backend failure is worth reopening the backend scanner for. Only INNER (a storage
 * hiccup) is: UNRECOVERABLE (truncated position), CHANNEL_FENCED and ON_SHUTDOWN cannot get
 * better by retrying, and an invalid argument is a bug.
 */
export function isRetriableBackendError(error: unknown): boolean {
  return error instanceof StreamingError && error.code === StreamingCode.INNER && !isEvictedError(error);
}
