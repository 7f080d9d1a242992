/**
 * The opener logic both backends share: one {@link ChannelStore} per pchannel in this process,
 * shared by every instance opened on it and closed with the last of them; term fencing on
 * read-write opens; children closed before the opener.
 */
import { StreamingError } from '../../../shared/errors/index.js';
import { formatPChannelInfo, type PChannelInfo, validatePChannelName } from '../../../shared/message/index.js';
import type { Logger } from '../../../shared/log/index.js';
import { raceAbort } from '../../../shared/util/index.js';
import { abortedError, closedError, staleTermError } from './backend-errors.js';
import { ChannelStore, type ChannelStoreOptions } from './channel-store.js';
import { ChannelWalBackend } from './channel-wal-backend.js';
import type { StorageEngine } from './storage-engine.js';
import type { OpenBackendOptions, WalBackend, WalBackendOpener } from './wal-backend.js';

/** Options both openers take (see each opener for the defaults). */
export interface StoreOpenerOptions {
  /** Most messages in one group-commit batch. Default 4096. */
  readonly maxBatchMessages?: number;
  /** Most bytes in one group-commit batch (a single larger message still goes alone). Default 16 MiB. */
  readonly maxBatchBytes?: number;
  /**
   * A batch being built is written as soon as it holds this many bytes if the writer is idle, so a
   * large burst is written while the rest of it is still arriving. Default 512 KiB.
   */
  readonly earlyWriteBytes?: number;
  /** Recent messages kept in memory per pchannel for tailing scanners. Default 4096; 0 disables. */
  readonly tailCacheMessages?: number;
  /** Byte budget of that cache. Default 8 MiB. */
  readonly tailCacheBytes?: number;
  /** Logs opens, fences and closes. Default silent. */
  readonly logger?: Logger;
}

/** Default of {@link StoreOpenerOptions.maxBatchMessages}. */
export const DEFAULT_MAX_BATCH_MESSAGES = 4096;
/** Default of {@link StoreOpenerOptions.maxBatchBytes}. */
export const DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Default of {@link StoreOpenerOptions.earlyWriteBytes}. */
export const DEFAULT_EARLY_WRITE_BYTES = 512 * 1024;
/** Default of {@link StoreOpenerOptions.tailCacheMessages}. */
export const DEFAULT_TAIL_CACHE_MESSAGES = 4096;
/** Default of {@link StoreOpenerOptions.tailCacheBytes}. */
export const DEFAULT_TAIL_CACHE_BYTES = 8 * 1024 * 1024;

/** Validated store options from opener options (`sync` is the opener's business). */
export function storeOptions(options: StoreOpenerOptions, sync: boolean): ChannelStoreOptions {
  return {
    sync,
    maxBatchMessages: positiveInt(options.maxBatchMessages ?? DEFAULT_MAX_BATCH_MESSAGES, 'maxBatchMessages', 1),
    maxBatchBytes: positiveInt(options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES, 'maxBatchBytes', 1),
    earlyWriteBytes: positiveInt(options.earlyWriteBytes ?? DEFAULT_EARLY_WRITE_BYTES, 'earlyWriteBytes', 1),
    tailCacheMessages: positiveInt(options.tailCacheMessages ?? DEFAULT_TAIL_CACHE_MESSAGES, 'tailCacheMessages', 0),
    tailCacheBytes: positiveInt(options.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES, 'tailCacheBytes', 0),
  };
}

/** An integer option ≥ `min`, else INVAILD_ARGUMENT naming it. */
export function positiveInt(value: number, field: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw StreamingError.invalidArgument(field, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Base of the LevelDB and memory openers; subclasses only say how to open a pchannel's storage. */
export abstract class StoreWalBackendOpener<R> implements WalBackendOpener {
  readonly #stores = new Map<string, Promise<ChannelStore<R>>>();
  readonly #backends = new Set<ChannelWalBackend<R>>();
  readonly #opening = new Set<Promise<unknown>>();
  readonly #storeOptions: ChannelStoreOptions;
  readonly #what: string;
  protected readonly logger: Logger | undefined;
  #closing: Promise<void> | undefined;

  protected constructor(what: string, storeOptions: ChannelStoreOptions, logger: Logger | undefined) {
    this.#what = what;
    this.#storeOptions = storeOptions;
    this.logger = logger;
  }

  /** Opens the storage of one pchannel (its name is already validated). */
  protected abstract openEngine(name: string): Promise<StorageEngine<R>>;

  open(channel: PChannelInfo, options?: OpenBackendOptions): Promise<WalBackend> {
    if (this.#closing !== undefined) return Promise.reject(closedError(this.#what, 'open'));
    const opening = this.#open(channel, options?.signal);
    this.#opening.add(opening);
    const forget = (): void => void this.#opening.delete(opening);
    opening.then(forget, forget);
    return opening;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #open(channel: PChannelInfo, signal: AbortSignal | undefined): Promise<WalBackend> {
    validateChannel(channel);
    if (signal?.aborted === true) throw abortedError(signal, `open ${channel.name}`);
    const store = await this.#acquire(channel.name, signal);
    try {
      if (channel.accessMode === 'rw') {
        const previous = store.term;
        await store.fence(channel.term);
        // A concurrent open at a higher term may have fenced this one while its term was written.
        const now = store.term;
        if (now !== undefined && now > channel.term) throw staleTermError(channel.name, channel.term, now);
        if (previous !== undefined && previous < channel.term) {
          this.logger?.info({ channel: channel.name, term: channel.term.toString(), previousTerm: previous.toString() }, 'wal backend fenced older term');
        }
      }
      if (this.#closing !== undefined) throw closedError(this.#what, 'open');
      // Re-read: the signal may have aborted while the fence was written (TS narrowed it above).
      if (isAborted(signal)) throw abortedError(signal, `open ${channel.name}`);
      const backend = new ChannelWalBackend<R>(store, channel, (b) => this.#backends.delete(b));
      this.#backends.add(backend);
      this.logger?.info({ channel: formatPChannelInfo(channel), location: store.engine.location }, 'wal backend opened');
      return backend;
    } catch (error) {
      await store.release().catch(() => undefined);
      throw error;
    }
  }

  /** The store of `name` with one more reference, opening the storage if needed. */
  async #acquire(name: string, signal: AbortSignal | undefined): Promise<ChannelStore<R>> {
    for (;;) {
      let pending = this.#stores.get(name);
      if (pending === undefined) {
        const created = this.#createStore(name);
        pending = created;
        this.#stores.set(name, created);
        const forget = (): void => {
          if (this.#stores.get(name) === created) this.#stores.delete(name);
        };
        created.then((store) => store.closed().then(forget), forget);
      }
      let store: ChannelStore<R>;
      try {
        store = await raceAbort(pending, signal);
      } catch (error) {
        // Gave up waiting: if nobody else took the store meanwhile, do not leave it open.
        if (signal?.aborted === true) {
          void pending.then((s) => s.closeIfUnused()).catch(() => undefined);
          throw abortedError(signal, `open ${name}`);
        }
        throw error;
      }
      if (store.retain()) return store;
      await store.closed();
    }
  }

  async #createStore(name: string): Promise<ChannelStore<R>> {
    const engine = await this.openEngine(name);
    return ChannelStore.open(name, engine, this.#storeOptions);
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#opening]);
    const results = await Promise.allSettled([...this.#backends].map((b) => b.close()));
    // Stores whose open raced the close (and were never retained) close here.
    await Promise.allSettled([...this.#stores.values()].map(async (p) => (await p).closeIfUnused()));
    await Promise.allSettled([...this.#stores.values()].map(async (p) => (await p).closed()));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    this.logger?.info({ opener: this.#what }, 'wal backend opener closed');
    if (errors.length > 0) throw new AggregateError(errors, `${this.#what}: ${errors.length} backend(s) failed to close`);
  }
}

function isAborted(signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true;
}

function validateChannel(channel: PChannelInfo): void {
  if (channel === null || typeof channel !== 'object') throw StreamingError.invalidArgument('pchannel', 'is missing');
  validatePChannelName(channel.name, 'pchannel.name');
  if (/^\.+$/.test(channel.name)) throw StreamingError.invalidArgument('pchannel.name', `${JSON.stringify(channel.name)} is not a usable name`);
  if (typeof channel.term !== 'bigint') throw StreamingError.invalidArgument('pchannel.term', 'must be a bigint');
  if (channel.accessMode !== 'rw' && channel.accessMode !== 'ro') {
    throw StreamingError.invalidArgument('pchannel.accessMode', `must be 'rw' or 'ro', got ${String(channel.accessMode)}`);
  }
  if (channel.accessMode === 'rw' && channel.term < 0n) {
    throw StreamingError.invalidArgument('pchannel.term', `a read-write open needs a term >= 0, got ${channel.term}`);
  }
}
