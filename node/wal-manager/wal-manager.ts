/**
 * The node's registry of WALs, one {@link WalLifetime} per pchannel (Milvus `walmanager`
 * `managerImpl`). The manager service's Assign / Remove / CollectStatus and the handler
 * service's producers and consumers all go through it.
 */
import { StreamingError } from '../../shared/errors/index.js';
import type { PChannelInfo } from '../../shared/message/index.js';
import { type Logger, noopLogger } from '../../shared/log/index.js';
import { Lifecycle } from '../../shared/util/index.js';
import type { BorrowedWal, ManagedWal, WalOpener } from './managed-wal.js';
import { WalLifetime } from './wal-lifetime.js';

/** Options of {@link WalManager}. */
export interface WalManagerOptions<W extends ManagedWal> {
  /** Opens the WAL of a pchannel at a term; the real one is the WAL adaptor's opener. */
  readonly opener: WalOpener<W>;
  readonly logger?: Logger;
}

/** Options of {@link WalManager.open} and {@link WalManager.remove}. */
export interface WalManagerCallOptions {
  /** Stops waiting (rejecting with the abort reason); the requested change still happens. */
  readonly signal?: AbortSignal;
}

/** The one ON_SHUTDOWN text every call answers once the manager is shutting down. */
const MANAGER_CLOSED = 'wal manager is closed';

/**
 * Opens and removes the WALs of this node, term-checked per pchannel, and hands them out.
 *
 * Lifecycle (STYLE §5): running from construction; `close()` first stops accepting `open`
 * (ON_SHUTDOWN "wal manager is closed"), then closes every pchannel's lifetime concurrently
 * (`allSettled`, rejecting with an `AggregateError` of the WAL close failures), after which every
 * call answers ON_SHUTDOWN. `remove`, `getAvailableWal` and `list` keep working while closing,
 * as in Milvus, though each pchannel answers ON_SHUTDOWN as soon as its own lifetime closes.
 *
 * @example
 * ```ts
 * const manager = new WalManager({ opener, logger });
 * await manager.open(pchannelInfo('by-dev-rootcoord-dml_0', 3n), { signal });   // Assign
 * const wal = manager.getAvailableWal(pchannelInfo('by-dev-rootcoord-dml_0', 3n)); // Produce
 * await manager.remove(pchannelInfo('by-dev-rootcoord-dml_0', 3n));              // Remove
 * await manager.close();
 * ```
 */
export class WalManager<W extends ManagedWal> {
  readonly #opener: WalOpener<W>;
  readonly #log: Logger;
  readonly #lifetimes = new Map<string, WalLifetime<W>>();
  readonly #life = new Lifecycle({ name: 'wal manager' });

  constructor(options: WalManagerOptions<W>) {
    this.#opener = options.opener;
    this.#log = (options.logger ?? noopLogger).child({ component: 'wal-manager' });
    this.#life.markRunning();
  }

  /**
   * Opens the WAL of `channel` at `channel.term`, closing an older term's WAL first (Assign).
   *
   * @throws StreamingError ON_SHUTDOWN once closing; IGNORED_OPERATION for a term (or state)
   *   older than one already asked for, including the same term again; UNMATCHED_CHANNEL_TERM
   *   when a newer term became current while waiting.
   * @throws the opener's error when the WAL cannot be opened.
   * @throws the abort reason of `options.signal`; the open still completes in the background.
   */
  async open(channel: PChannelInfo, options: WalManagerCallOptions = {}): Promise<void> {
    if (!this.#life.isRunning) throw StreamingError.onShutdown(MANAGER_CLOSED);
    const log = this.#log.child({ channel: channel.name, term: channel.term.toString() });
    try {
      await this.#lifetime(channel.name).open(channel, options);
      log.info({}, 'open wal success');
    } catch (error) {
      log.warn({ err: error }, 'open wal failed');
      throw error;
    }
  }

  /**
   * Closes the WAL of `channel` at `channel.term` if it is open, and records that this term is
   * over, so a late `open` of it is ignored (Remove). Removing a never-opened or failed term
   * succeeds.
   *
   * @throws StreamingError ON_SHUTDOWN once closed; IGNORED_OPERATION for an older term.
   * @throws the abort reason of `options.signal`; the removal still completes in the background.
   */
  async remove(channel: PChannelInfo, options: WalManagerCallOptions = {}): Promise<void> {
    const log = this.#log.child({ channel: channel.name, term: channel.term.toString() });
    try {
      // Created even for a pchannel never opened here: the removed term must be remembered so a
      // late open of it is ignored (the coordinator may deliver Remove before Assign).
      await this.#lifetime(channel.name).remove(channel.term, options);
      log.info({}, 'remove wal success');
    } catch (error) {
      log.warn({ err: error }, 'remove wal failed');
      throw error;
    }
  }

  /**
   * The WAL serving `channel` at exactly `channel.term`, without `close()` (the manager owns it).
   *
   * @throws StreamingError CHANNEL_NOT_EXIST when no WAL is open or it is not available (fenced,
   *   closing); UNMATCHED_CHANNEL_TERM(name, requested, current) when it is open at another
   *   term; ON_SHUTDOWN once closed.
   */
  getAvailableWal(channel: PChannelInfo): BorrowedWal<W> {
    this.#assertNotClosed();
    const wal = this.#lifetimes.get(channel.name)?.getWal();
    if (wal === undefined || !wal.isAvailable()) throw StreamingError.channelNotExist(channel.name);
    if (wal.channel.term !== channel.term) {
      throw StreamingError.unmatchedChannelTerm(channel.name, channel.term, wal.channel.term);
    }
    return wal;
  }

  /**
   * Every WAL open on this node, available or not (a fenced WAL stays until removed), for
   * CollectStatus and metrics.
   *
   * @throws StreamingError ON_SHUTDOWN once closed.
   */
  list(): BorrowedWal<W>[] {
    this.#assertNotClosed();
    const wals: BorrowedWal<W>[] = [];
    for (const lifetime of this.#lifetimes.values()) {
      const wal = lifetime.getWal();
      if (wal !== undefined) wals.push(wal);
    }
    return wals;
  }

  /** Closes every WAL and stops; idempotent (see the class docs). */
  close(reason?: Error): Promise<void> {
    return this.#life.close(reason);
  }

  /** Resolves once closed (with the `close()` reason or teardown failure); never rejects. */
  closed(): Promise<void | Error> {
    return this.#life.closed();
  }

  #assertNotClosed(): void {
    if (this.#life.status === 'closed') throw StreamingError.onShutdown(MANAGER_CLOSED);
  }

  /** The lifetime of `name`, created on first use (by open or remove). */
  #lifetime(name: string): WalLifetime<W> {
    return this.#lifetimes.get(name) ?? this.#createLifetime(name);
  }

  #createLifetime(name: string): WalLifetime<W> {
    // A lifetime born while closing would never be closed: refuse instead.
    if (!this.#life.isRunning) throw StreamingError.onShutdown(MANAGER_CLOSED);
    const lifetime = new WalLifetime<W>({ channel: name, opener: this.#opener, logger: this.#log });
    // Pending calls of the lifetime fail with the manager's ON_SHUTDOWN, whatever close() got.
    this.#life.track({ close: () => lifetime.close(StreamingError.onShutdown(MANAGER_CLOSED)) });
    this.#lifetimes.set(name, lifetime);
    return lifetime;
  }
}
