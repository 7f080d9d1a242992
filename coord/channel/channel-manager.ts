/**
 * The channel manager (Milvus `channel.ChannelManager`): the coordinator's record of every pchannel
 * assignment, and the write-ahead log of the balancer's decisions. Every change is persisted to the
 * catalog *before* it becomes visible in memory; a failed save throws and leaves memory untouched,
 * so the next balance round starts from the last persisted state and repairs it (§2.5).
 *
 * Mutations are serialised by one mutex. Reads are synchronous over the current immutable snapshot,
 * which `snapshots$` also publishes (latest value wins, STYLE §4) whenever the version changes.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import { Mutex, StreamingError, formatPChannelInfo, noopLogger } from '../../shared/index.js';
import type { AccessMode, Logger, PChannelInfo } from '../../shared/index.js';
import type { Catalog, PChannelMeta, StreamingNodeInfo } from '../catalog/index.js';
import { recoverChannels } from './channel-recovery.js';
import { assignmentsOf, layoutOf, makeSnapshot } from './channel-snapshot.js';
import type { AssignmentsView, ChannelLayoutView, ChannelManagerSnapshot } from './channel-snapshot.js';
import {
  assignToServerDone,
  formatPChannelMeta,
  isAssigned,
  markAsUnavailable as markMetaUnavailable,
  tryAssignToServerId,
} from './pchannel-meta.js';
import { versionPair } from './version-pair.js';
import type { VersionPair } from './version-pair.js';

/** Where the balancer wants a pchannel: the target node and the access mode to open it with. */
export interface ExpectedAssignment {
  readonly node: StreamingNodeInfo;
  readonly accessMode: AccessMode;
}

/** Options of {@link ChannelManager.recover}. */
export interface ChannelManagerOptions {
  /** This coordinator's server id: `VersionPair.global`, so a newer coordinator's versions win. */
  readonly serverId: bigint;
  /** Configured pchannels; index 0 hosts the control channel unless one is persisted already. */
  readonly pchannelNames: readonly string[];
  readonly logger?: Logger;
  /** Wall clock in ms for `lastAssignTimestampSeconds`; tests pass a fake. Default `Date.now`. */
  readonly nowMs?: () => number;
  /** Aborts the catalog writes of recovery. */
  readonly signal?: AbortSignal;
}

/** Per-call options of the mutations. */
export interface MutationOptions {
  /** Aborts waiting for the lock and the catalog's retried save. */
  readonly signal?: AbortSignal;
}

/** In-memory pchannel state backed by the catalog. Build it with {@link ChannelManager.recover}. */
export class ChannelManager {
  readonly #catalog: Catalog;
  readonly #logger: Logger;
  readonly #nowMs: () => number;
  readonly #lock = new Mutex();
  readonly #subject: BehaviorSubject<ChannelManagerSnapshot>;
  readonly #streamingVersion: bigint;
  #closed = false;

  /** Every new snapshot, the current one first on subscribe; completes on {@link close}. */
  readonly snapshots$: Observable<ChannelManagerSnapshot>;

  private constructor(catalog: Catalog, logger: Logger, nowMs: () => number, streamingVersion: bigint, first: ChannelManagerSnapshot) {
    this.#catalog = catalog;
    this.#logger = logger;
    this.#nowMs = nowMs;
    this.#streamingVersion = streamingVersion;
    this.#subject = new BehaviorSubject(first);
    this.snapshots$ = this.#subject.asObservable();
  }

  /**
   * Recovers the manager from the catalog: persisted metas as they are, new UNINITIALIZED metas for
   * configured pchannels not persisted yet, the control channel chosen once, version `{serverId, 0}`.
   *
   * @example
   * ```ts
   * const channels = await ChannelManager.recover(catalog, { serverId, pchannelNames: pchannelNames('by-dev', 16) });
   * channels.snapshots$.subscribe((s) => discovery.publish(assignmentsOf(s)));
   * ```
   */
  static async recover(catalog: Catalog, options: ChannelManagerOptions): Promise<ChannelManager> {
    const logger = (options.logger ?? noopLogger).child({ component: 'channel-manager' });
    const recovered = await recoverChannels(catalog, {
      pchannelNames: options.pchannelNames,
      logger,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const first = makeSnapshot(versionPair(options.serverId, 0n), recovered.cchannel, recovered.channels);
    return new ChannelManager(catalog, logger, options.nowMs ?? Date.now, recovered.streamingVersion, first);
  }

  /** The current snapshot. */
  snapshot(): ChannelManagerSnapshot {
    return this.#subject.getValue();
  }

  /** The current assignment version. */
  get version(): VersionPair {
    return this.snapshot().version;
  }

  /** The pchannel hosting the control channel. */
  get cchannel(): string {
    return this.snapshot().cchannel;
  }

  /** Proto `StreamingVersion.version` found (or persisted) at recovery. */
  get streamingVersion(): bigint {
    return this.#streamingVersion;
  }

  /** The meta of one pchannel, if known. */
  getMeta(name: string): PChannelMeta | undefined {
    return this.snapshot().channels.get(name);
  }

  /** The node serving `pchannel` right now (ASSIGNED only), as Milvus `GetLatestWALLocated`. */
  getLatestWALLocated(pchannel: string): StreamingNodeInfo | undefined {
    const meta = this.getMeta(pchannel);
    return meta !== undefined && isAssigned(meta) ? meta.node : undefined;
  }

  /** ASSIGNED channels grouped by node, with the version: what discovery sends. */
  currentAssignments(): AssignmentsView {
    return assignmentsOf(this.snapshot());
  }

  /** Every meta in name order, with the version: what the balancer builds its layout from. */
  currentLayout(): ChannelLayoutView {
    return layoutOf(this.snapshot());
  }

  /**
   * Phase 1 of the two-phase move: applies `tryAssignToServerId` to every channel of `expected` and
   * persists the changed ones (ASSIGNING, term+1, histories) in one `savePChannels` call before
   * memory changes. Channels already ASSIGNED as expected are no-ops; nothing changed means no save
   * and no version bump.
   *
   * @returns the changed metas by name (empty when nothing changed).
   * @throws CHANNEL_NOT_EXIST for an unknown pchannel (nothing is saved); the catalog's error when
   *   the save fails (memory unchanged).
   */
  async assignPChannels(expected: ReadonlyMap<string, ExpectedAssignment>, options: MutationOptions = {}): Promise<ReadonlyMap<string, PChannelMeta>> {
    return this.#mutate(options, (channels) => {
      const updates = new Map<string, PChannelMeta>();
      for (const [name, target] of expected) {
        const { meta, changed } = tryAssignToServerId(requireMeta(channels, name), target.accessMode, target.node);
        if (changed) updates.set(name, meta);
      }
      return { updates, what: 'assigning' };
    });
  }

  /**
   * Phase 2 completion: ASSIGNED, histories cleared, `lastAssignTimestampSeconds = now` for each
   * name. As in Milvus every listed meta is persisted even when it was not ASSIGNING (then as is).
   *
   * @throws CHANNEL_NOT_EXIST for an unknown pchannel; the catalog's error (memory unchanged).
   */
  async assignPChannelsDone(names: readonly string[], options: MutationOptions = {}): Promise<void> {
    await this.#mutate(options, (channels) => {
      const nowSeconds = BigInt(Math.floor(this.#nowMs() / 1000));
      const updates = new Map<string, PChannelMeta>();
      for (const name of names) {
        const current = updates.get(name) ?? requireMeta(channels, name);
        updates.set(name, assignToServerDone(current, nowSeconds).meta);
      }
      return { updates, what: 'assigned' };
    });
  }

  /**
   * The `report_error` path: marks each channel UNAVAILABLE if it is ASSIGNED at the reported term.
   * A stale term (the channel already moved on) or another state leaves the meta as it is, but, as
   * Milvus `MarkAsUnavailable` does, the unchanged copy is still persisted and the version still
   * bumped: a redundant idempotent write, and watchers merely re-receive the same assignment.
   *
   * @throws CHANNEL_NOT_EXIST for an unknown pchannel; the catalog's error (memory unchanged).
   */
  async markAsUnavailable(pchannels: PChannelInfo | readonly PChannelInfo[], options: MutationOptions = {}): Promise<void> {
    const list: readonly PChannelInfo[] = isPChannelList(pchannels) ? pchannels : [pchannels];
    await this.#mutate(options, (channels) => {
      const updates = new Map<string, PChannelMeta>();
      for (const reported of list) {
        const current = updates.get(reported.name) ?? requireMeta(channels, reported.name);
        const { meta, changed } = markMetaUnavailable(current, reported.term);
        if (!changed) this.#logger.info({ reported: formatPChannelInfo(reported), current: formatPChannelMeta(current) }, 'unavailable report ignored: stale term or not assigned');
        updates.set(reported.name, meta);
      }
      return { updates, what: 'unavailable' };
    });
  }

  /**
   * Bumps `version.local` without a catalog write (Milvus `TriggerWatchUpdate`): called on streaming
   * node membership changes so that watchers re-send assignments with the new node list.
   */
  triggerWatchUpdate(): void {
    if (this.#closed) return;
    const s = this.snapshot();
    this.#publish(makeSnapshot(versionPair(s.version.global, s.version.local + 1n), s.cchannel, s.channels.values()));
  }

  /** Completes `snapshots$`; later mutations fail with ON_SHUTDOWN. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subject.complete();
  }

  /**
   * Runs `plan` under the lock over the current metas, persists its updates in one save, then swaps
   * them into a new snapshot with `local + 1`. The version is read again after the save, so a
   * concurrent {@link triggerWatchUpdate} bump is never lost.
   */
  async #mutate(
    options: MutationOptions,
    plan: (channels: ReadonlyMap<string, PChannelMeta>) => { updates: Map<string, PChannelMeta>; what: string },
  ): Promise<ReadonlyMap<string, PChannelMeta>> {
    this.#throwIfClosed();
    return this.#lock.runExclusive(async () => {
      this.#throwIfClosed();
      const { updates, what } = plan(this.snapshot().channels);
      if (updates.size === 0) return updates;
      const metas = [...updates.values()];
      try {
        await this.#catalog.savePChannels(metas, options.signal === undefined ? {} : { signal: options.signal });
      } catch (err) {
        this.#logger.error({ err, channels: [...updates.keys()] }, `failed to save pchannels (${what})`);
        throw err;
      }
      // close() may have run while the save was in flight: the write stands, but a completed
      // subject must not emit again.
      if (this.#closed) return updates;
      const s = this.snapshot();
      const merged = new Map(s.channels);
      for (const meta of metas) merged.set(meta.channel.name, meta);
      this.#publish(makeSnapshot(versionPair(s.version.global, s.version.local + 1n), s.cchannel, merged.values()));
      this.#logger.info({ version: this.version.local, channels: metas.map(formatPChannelMeta) }, `pchannels ${what}`);
      return updates;
    }, options.signal === undefined ? {} : { signal: options.signal });
  }

  #publish(next: ChannelManagerSnapshot): void {
    this.#subject.next(next);
  }

  #throwIfClosed(): void {
    if (this.#closed) throw StreamingError.onShutdown('channel manager is closed');
  }
}

function requireMeta(channels: ReadonlyMap<string, PChannelMeta>, name: string): PChannelMeta {
  const meta = channels.get(name);
  if (meta === undefined) throw StreamingError.channelNotExist(name);
  return meta;
}

function isPChannelList(p: PChannelInfo | readonly PChannelInfo[]): p is readonly PChannelInfo[] {
  return Array.isArray(p);
}
