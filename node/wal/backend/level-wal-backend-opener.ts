/**
 * Opens LevelDB-backed WAL backends: one database per pchannel under `<dataRoot>/wal/<pchannel>/`.
 * Within this process, every instance of a pchannel shares one database handle (so a higher term
 * can fence a still-open older one); across processes LevelDB's directory lock admits one
 * process at a time, and the others get RESOURCE_ACQUIRED at once.
 */
import { join } from 'node:path';
import { StreamingError } from '../../../shared/errors/index.js';
import { LevelStorage } from './level-storage.js';
import type { StorageEngine } from './storage-engine.js';
import { positiveInt, StoreWalBackendOpener, type StoreOpenerOptions, storeOptions } from './store-opener.js';

/** Options of {@link LevelWalBackendOpener}. */
export interface LevelWalBackendOpenerOptions extends StoreOpenerOptions {
  /** The node's data directory; pchannels live in `<dataRoot>/wal/<pchannel>/`. */
  readonly dataRoot: string;
  /** fsync each group-commit batch before acknowledging it. Default true. Checkpoints, terms and
   *  truncation marks are always synced. */
  readonly sync?: boolean;
  /** LevelDB memtable size per pchannel in bytes. Default 16 MiB. */
  readonly writeBufferSize?: number;
  /** Snappy-compress LevelDB's stored blocks. Default false (see `DEFAULT_WAL_COMPRESSION` in the config). */
  readonly compression?: boolean;
}

/** Default of {@link LevelWalBackendOpenerOptions.writeBufferSize}: fewer memtable flushes than LevelDB's 4 MiB. */
export const DEFAULT_WRITE_BUFFER_SIZE = 16 * 1024 * 1024;

/**
 * The production {@link WalBackendOpener}.
 *
 * @example
 * ```ts
 * const opener = new LevelWalBackendOpener({ dataRoot: '/var/lib/wal' });
 * const wal = await opener.open(pchannelInfo('by-dev-rootcoord-dml_0', 1n));
 * const id = await wal.append(msg);
 * await opener.close();
 * ```
 */
export class LevelWalBackendOpener extends StoreWalBackendOpener<number> {
  readonly dataRoot: string;
  readonly #writeBufferSize: number;
  readonly #compression: boolean;

  constructor(options: LevelWalBackendOpenerOptions) {
    if (typeof options?.dataRoot !== 'string' || options.dataRoot === '') {
      throw StreamingError.invalidArgument('dataRoot', 'must be a non-empty path');
    }
    super(`level wal backend opener ${options.dataRoot}`, storeOptions(options, options.sync ?? true), options.logger?.child({ component: 'wal-backend' }));
    this.dataRoot = options.dataRoot;
    this.#writeBufferSize = positiveInt(options.writeBufferSize ?? DEFAULT_WRITE_BUFFER_SIZE, 'writeBufferSize', 64 * 1024);
    this.#compression = options.compression ?? false;
  }

  /** The LevelDB directory of `pchannel`. */
  directoryOf(pchannel: string): string {
    return join(this.dataRoot, 'wal', pchannel);
  }

  protected openEngine(name: string): Promise<StorageEngine<number>> {
    return LevelStorage.open(name, this.directoryOf(name), { writeBufferSize: this.#writeBufferSize, compression: this.#compression });
  }
}
