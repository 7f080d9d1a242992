/**
 * The scanners of one WAL (Milvus `scannerRegistry`): names them, ends them when the WAL becomes
 * unavailable, and closes the rest when the WAL closes (a parent owns its children, STYLE §5).
 */
import { anySignal, type Logger, type PChannelInfo } from '../../../shared/index.js';
import { createWalScanner, type ScannerSource, type WalScannerAdaptor, type WalScannerTuning } from '../scanner/index.js';
import type { WalReadOptions } from '../wal.js';

/** Options of {@link ScannerRegistry}. */
export interface ScannerRegistryOptions {
  readonly channel: PChannelInfo;
  readonly source: ScannerSource;
  /** Aborted when the WAL becomes unavailable; every scanner ends with its reason. */
  readonly availability: AbortSignal;
  readonly tuning: Omit<WalScannerTuning, 'logger'>;
  readonly logger: Logger;
}

/**
 * Each scanner is named `<pchannel>/<term>/<seq>` (the caller's `name` goes into its log lines)
 * and listens to both the caller's signal and the WAL's availability: a fenced WAL's readers end
 * with CHANNEL_FENCED and a closing WAL's with ON_SHUTDOWN, so consumers move to the new owner.
 * A scanner leaves the registry when it ends, however it ends.
 */
export class ScannerRegistry {
  readonly #options: ScannerRegistryOptions;
  readonly #scanners = new Set<WalScannerAdaptor>();
  #seq = 0;

  constructor(options: ScannerRegistryOptions) {
    this.#options = options;
  }

  /** Scanners running now. */
  get size(): number {
    return this.#scanners.size;
  }

  /**
   * Opens a scanner.
   *
   * @throws StreamingError INVAILD_ARGUMENT for invalid filters.
   */
  open(options: WalReadOptions): WalScannerAdaptor {
    const { channel, source, availability, tuning, logger } = this.#options;
    const name = `${channel.name}/${channel.term}/${this.#seq++}`;
    const stop = anySignal([options.signal, availability]);
    let scanner: WalScannerAdaptor;
    try {
      const readerLogger = options.name === undefined ? logger : logger.child({ reader: options.name });
      scanner = createWalScanner(source, { ...options, name, signal: stop.signal }, { ...tuning, logger: readerLogger });
    } catch (error) {
      stop.dispose();
      throw error;
    }
    this.#scanners.add(scanner);
    void scanner.closed().then(() => {
      this.#scanners.delete(scanner);
      stop.dispose();
    });
    return scanner;
  }

  /** Closes every scanner (all of them, even if one fails). Rejects with an AggregateError of the failures. */
  async closeAll(): Promise<void> {
    const results = await Promise.allSettled([...this.#scanners].map((s) => s.close()));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} wal scanner(s) failed to close`);
  }
}
