/**
 * The read-only WAL of a pchannel (Milvus `roWALAdaptorImpl`, reference/milvus-node.md §2.4): a
 * backend opened read-only, no interceptors, scanners that only catch up from the backend.
 * A node serves consumers of a pchannel it does not own this way.
 */
import { setMaxListeners } from 'node:events';
import {
  formatPChannelInfo,
  type Logger,
  type PChannelInfo,
  StreamingError,
} from '../../../shared/index.js';
import type { WalBackend } from '../backend/index.js';
import type { WalScannerAdaptor } from '../scanner/index.js';
import type { AppendResult, Wal, WalMetrics, WalReadOptions } from '../wal.js';
import { ScannerRegistry } from './scanner-registry.js';
import { scannerTuningOf, type WalAdaptorConfig } from './wal-config.js';

/** What {@link ReadOnlyWalAdaptor} needs. */
export interface ReadOnlyWalAdaptorParams {
  readonly channel: PChannelInfo;
  /** Opened read-only; the WAL owns it from now on. */
  readonly backend: WalBackend;
  readonly config: WalAdaptorConfig;
  readonly logger: Logger;
}

/**
 * Appends are refused with INVAILD_ARGUMENT (Milvus panics; a service must not). Scanners read the
 * backend only (no write-ahead buffer): the backend scanner waits at the end of the log for new
 * records, which is tailing enough. It never writes: no time ticks, checkpoints or truncation.
 *
 * Close: availability aborted (ON_SHUTDOWN) → scanners closed → backend closed. Idempotent.
 */
export class ReadOnlyWalAdaptor implements Wal {
  readonly channel: PChannelInfo;
  readonly #backend: WalBackend;
  readonly #logger: Logger;
  readonly #availability = new AbortController();
  readonly #scanners: ScannerRegistry;
  #closing: Promise<void> | undefined;

  constructor(params: ReadOnlyWalAdaptorParams) {
    const { channel, backend, config, logger } = params;
    this.channel = channel;
    this.#backend = backend;
    this.#logger = logger;
    setMaxListeners(0, this.#availability.signal);
    this.#scanners = new ScannerRegistry({
      channel,
      availability: this.#availability.signal,
      logger: logger.child({ component: 'wal-scanner' }),
      // No time tick operator to ask: a read-only WAL catches up from the backend only.
      source: { backend, writeAheadBuffer: undefined, requestPersistedTimeTick: () => undefined },
      tuning: scannerTuningOf(config),
    });
  }

  get availability(): AbortSignal {
    return this.#availability.signal;
  }

  isAvailable(): boolean {
    return !this.#availability.signal.aborted;
  }

  /** Scanners open now. */
  get scannerCount(): number {
    return this.#scanners.size;
  }

  append(): Promise<AppendResult> {
    if (this.#closing !== undefined) return Promise.reject(this.#shutdownError('append'));
    return Promise.reject(
      StreamingError.invalidArgument('access mode', `wal ${formatPChannelInfo(this.channel)} is read-only, it cannot append`),
    );
  }

  read(options: WalReadOptions): WalScannerAdaptor {
    if (this.#closing !== undefined) throw this.#shutdownError('read');
    return this.#scanners.open(options);
  }

  metrics(): WalMetrics {
    return { channel: this.channel };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#availability.abort(this.#shutdownError('read'));
    const results = await Promise.allSettled([this.#scanners.closeAll()]);
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    try {
      await this.#backend.close();
    } catch (error) {
      failures.push(error);
    }
    this.#logger.info({}, 'read-only wal closed');
    if (failures.length > 0) throw new AggregateError(failures, `wal ${formatPChannelInfo(this.channel)}: ${failures.length} failure(s) while closing`);
  }

  #shutdownError(operation: string): StreamingError {
    return StreamingError.onShutdown(`cannot ${operation}: wal ${formatPChannelInfo(this.channel)} is closed`);
  }
}
