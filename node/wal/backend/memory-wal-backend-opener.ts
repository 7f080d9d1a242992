/**
 * Opens in-memory WAL backends for tests. The data of each pchannel (records, fence term, floor,
 * checkpoint) lives as long as the opener, so close/reopen, terms and fencing behave exactly as
 * with LevelDB; only durability across processes is missing.
 */
import type { MutableMessage } from '../../../shared/message/index.js';
import { MemoryChannelData, MemoryStorage } from './memory-storage.js';
import type { StorageEngine } from './storage-engine.js';
import { StoreWalBackendOpener, type StoreOpenerOptions, storeOptions } from './store-opener.js';

/** Options of {@link MemoryWalBackendOpener}. */
export type MemoryWalBackendOpenerOptions = StoreOpenerOptions;

/**
 * The in-memory {@link WalBackendOpener}.
 *
 * @example
 * ```ts
 * const opener = new MemoryWalBackendOpener();
 * const wal = await opener.open(pchannelInfo('p', 1n));
 * ```
 */
export class MemoryWalBackendOpener extends StoreWalBackendOpener<MutableMessage> {
  readonly #data = new Map<string, MemoryChannelData>();

  constructor(options: MemoryWalBackendOpenerOptions = {}) {
    super('memory wal backend opener', storeOptions(options, false), options.logger?.child({ component: 'wal-backend' }));
  }

  protected openEngine(name: string): Promise<StorageEngine<MutableMessage>> {
    let data = this.#data.get(name);
    if (data === undefined) {
      data = new MemoryChannelData();
      this.#data.set(name, data);
    }
    return Promise.resolve(new MemoryStorage(data));
  }
}
