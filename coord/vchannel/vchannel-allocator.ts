/**
 * The coordinator's vchannel registry (our `vchannel/<name>` catalog keys; Milvus keeps the same
 * facts in rootcoord's collection meta): allocation on the least-loaded pchannels, drop, listing,
 * and the per-pchannel vchannel counts the balancer's vchannelFair policy weighs.
 *
 * Rules:
 * - Persist before visible: a change is saved with `catalog.saveVChannels` first; memory (and so
 *   `list` / `vchannelStats`) changes only after the save succeeded. A failed save leaves both as
 *   they were.
 * - Collection ids: `0` asks for a new one, taken from the TSO (a hybrid timestamp: unique, never
 *   reused, increasing across restarts and failover, which is also how Milvus's global id
 *   allocator works). The catalog has no counter of its own, so none is kept there.
 * - Allocating again for a collection that already has live vchannels with the same count returns
 *   those (an idempotent retry after a lost response); another count is INVAILD_ARGUMENT. A
 *   collection whose vchannels were dropped is never re-allocated (ids are not reused).
 * - Drop marks vchannels dropped (kept, listed with `includeDropped`); unknown or already dropped
 *   names are a no-op and are absent from the result (ext.proto `DropVChannelsResponse`).
 * - Allocations and drops are serialised by one mutex; reads are synchronous.
 */
import { Mutex, StreamingError, noopLogger, parseVChannelName, validatePChannelName, validateVChannelName, vchannelName } from '../../shared/index.js';
import type { Logger, TsoAllocator } from '../../shared/index.js';
import type { VChannelStats } from '../balancer/index.js';
import type { Catalog, VChannelMeta } from '../catalog/index.js';
import { compareNames } from '../channel/index.js';
import { choosePChannels } from './vchannel-placement.js';

/** Options of {@link VChannelAllocator.recover}. */
export interface VChannelAllocatorOptions {
  readonly catalog: Catalog;
  /** Source of collection ids (for `collectionId` 0) and of create / drop timestamps. */
  readonly tso: TsoAllocator;
  /** The configured pchannels new vchannels may go to (Milvus `rootCoord.dmlChannelNum`, fixed). */
  readonly pchannels: readonly string[];
  /** Called after every persisted change (e.g. `() => balancer.notify('vchannels')`). */
  readonly onChange?: () => void;
  readonly logger?: Logger;
}

/** The result of {@link VChannelAllocator.allocate}: one vchannel per shard, shard 0 first. */
export interface VChannelAllocation {
  readonly collectionId: bigint;
  readonly vchannels: readonly VChannelMeta[];
}

/** Filter of {@link VChannelAllocator.list}. */
export interface VChannelListFilter {
  /** Only vchannels of this pchannel. */
  readonly pchannel?: string;
  /** Also dropped ones (default false). */
  readonly includeDropped?: boolean;
}

/** Allocates, drops and lists vchannels; build it with {@link VChannelAllocator.recover}. */
export class VChannelAllocator {
  readonly #catalog: Catalog;
  readonly #tso: TsoAllocator;
  readonly #pchannels: readonly string[];
  readonly #onChange: () => void;
  readonly #logger: Logger;
  readonly #lock = new Mutex();
  /** Every known vchannel (normal and dropped) by name. */
  readonly #byName = new Map<string, VChannelMeta>();

  private constructor(options: VChannelAllocatorOptions, metas: readonly VChannelMeta[]) {
    this.#catalog = options.catalog;
    this.#tso = options.tso;
    this.#pchannels = Object.freeze([...new Set(options.pchannels)]);
    this.#onChange = options.onChange ?? (() => undefined);
    this.#logger = (options.logger ?? noopLogger).child({ component: 'vchannel-allocator' });
    for (const m of metas) this.#byName.set(m.vchannel, m);
  }

  /**
   * Loads every persisted vchannel and returns an allocator over them.
   *
   * @example
   * ```ts
   * const vchannels = await VChannelAllocator.recover({ catalog, tso, pchannels: pchannelNames('by-dev', 16) });
   * const { vchannels: shards } = await vchannels.allocate(0n, 2); // a new collection, 2 shards
   * ```
   * @throws INVAILD_ARGUMENT when `pchannels` is empty or holds a bad name; the catalog's error.
   */
  static async recover(options: VChannelAllocatorOptions): Promise<VChannelAllocator> {
    if (options.pchannels.length === 0) throw StreamingError.invalidArgument('pchannels', 'at least one pchannel is needed');
    for (const p of options.pchannels) validatePChannelName(p, 'pchannels');
    const metas = await options.catalog.listVChannels();
    const allocator = new VChannelAllocator(options, metas);
    allocator.#logger.info({ vchannels: metas.length, pchannels: options.pchannels.length }, 'vchannels recovered');
    return allocator;
  }

  /**
   * Allocates `count` vchannels `<pchannel>_<collectionId>v<idx>` for a collection, each on a
   * distinct pchannel, least-loaded first (see `vchannel-placement.ts`), persisted before it
   * resolves.
   *
   * @param collectionId `0n` = allocate a new id from the TSO.
   * @throws StreamingError INVAILD_ARGUMENT (naming `collection_id` or `count`) for a negative id,
   *   a count outside [1, pchannel count], a collection already allocated with another count or
   *   dropped; the TSO's or the catalog's error (nothing changed).
   */
  async allocate(collectionId: bigint, count: number, options: { signal?: AbortSignal } = {}): Promise<VChannelAllocation> {
    if (collectionId < 0n) throw StreamingError.invalidArgument('collection_id', `must be >= 0, got ${collectionId}`);
    if (!Number.isSafeInteger(count) || count < 1) throw StreamingError.invalidArgument('count', `must be a positive integer, got ${count}`);
    const result = await this.#lock.runExclusive(async () => {
      if (collectionId !== 0n) {
        const existing = this.#existing(collectionId, count);
        if (existing !== undefined) return { allocation: existing, changed: false };
      }
      const pchannels = choosePChannels(this.#pchannels, count, (p) => this.#liveCount(p));
      const createTimestamp = await this.#tso.allocate(1);
      // A fresh id is the create timestamp itself: TSO values are unique and never reused.
      const id = collectionId === 0n ? createTimestamp : collectionId;
      const metas = pchannels.map(
        (pchannel, idx): VChannelMeta =>
          Object.freeze({ vchannel: vchannelName(pchannel, id, idx), pchannel, collectionId: id, state: 'normal', createTimestamp, dropTimestamp: 0n }),
      );
      await this.#catalog.saveVChannels(metas, signalOption(options.signal));
      for (const m of metas) this.#byName.set(m.vchannel, m);
      this.#logger.info({ collectionId: id.toString(), vchannels: metas.map((m) => m.vchannel) }, 'vchannels allocated');
      return { allocation: Object.freeze({ collectionId: id, vchannels: Object.freeze(metas) }), changed: true };
    }, signalOption(options.signal));
    if (result.changed) this.#onChange();
    return result.allocation;
  }

  /**
   * Marks vchannels dropped (persisted first). Unknown and already dropped names are skipped.
   *
   * @returns the names this call dropped, in request order, without duplicates.
   * @throws StreamingError INVAILD_ARGUMENT naming `vchannels[i]` for a malformed name (nothing is
   *   dropped then); the TSO's or the catalog's error (nothing changed).
   */
  async drop(names: readonly string[], options: { signal?: AbortSignal } = {}): Promise<string[]> {
    names.forEach((name, i) => validateVChannelName(name, `vchannels[${i}]`));
    const dropped = await this.#lock.runExclusive(async () => {
      const targets = [...new Set(names)].flatMap((name) => {
        const meta = this.#byName.get(name);
        return meta !== undefined && meta.state === 'normal' ? [meta] : [];
      });
      if (targets.length === 0) return [];
      const dropTimestamp = await this.#tso.allocate(1);
      const metas = targets.map((m): VChannelMeta => Object.freeze({ ...m, state: 'dropped', dropTimestamp }));
      await this.#catalog.saveVChannels(metas, signalOption(options.signal));
      for (const m of metas) this.#byName.set(m.vchannel, m);
      this.#logger.info({ vchannels: metas.map((m) => m.vchannel) }, 'vchannels dropped');
      return metas.map((m) => m.vchannel);
    }, signalOption(options.signal));
    if (dropped.length > 0) this.#onChange();
    return dropped;
  }

  /**
   * Known vchannels in name order.
   *
   * @throws StreamingError INVAILD_ARGUMENT naming `pchannel` for a malformed pchannel name.
   */
  list(filter: VChannelListFilter = {}): VChannelMeta[] {
    const { pchannel, includeDropped = false } = filter;
    if (pchannel !== undefined) validatePChannelName(pchannel);
    return [...this.#byName.values()]
      .filter((m) => (includeDropped || m.state === 'normal') && (pchannel === undefined || m.pchannel === pchannel))
      .sort((a, b) => compareNames(a.vchannel, b.vchannel));
  }

  /** One vchannel by name, normal or dropped. */
  get(vchannel: string): VChannelMeta | undefined {
    return this.#byName.get(vchannel);
  }

  /**
   * The balancer's `VChannelStatsProvider` (vchannelFair): live vchannels of a pchannel with their
   * collection ids; undefined when it has none. An arrow property, so it can be passed as is.
   */
  readonly vchannelStats = (pchannel: string): VChannelStats | undefined => {
    const live = this.#live(pchannel);
    if (live.length === 0) return undefined;
    return { count: live.length, collectionIds: live.map((m) => m.collectionId) };
  };

  /** The live vchannels of a collection if it was allocated with `count`; see the module rules. */
  #existing(collectionId: bigint, count: number): VChannelAllocation | undefined {
    const all = [...this.#byName.values()].filter((m) => m.collectionId === collectionId);
    if (all.length === 0) return undefined;
    if (all.some((m) => m.state === 'dropped')) {
      throw StreamingError.invalidArgument('collection_id', `collection ${collectionId} was dropped; collection ids are never reused`);
    }
    if (all.length !== count) {
      throw StreamingError.invalidArgument('collection_id', `collection ${collectionId} already has ${all.length} vchannels, ${count} requested`);
    }
    const byShard = all.sort((a, b) => shardOf(a) - shardOf(b));
    return Object.freeze({ collectionId, vchannels: Object.freeze(byShard) });
  }

  #live(pchannel: string): VChannelMeta[] {
    return [...this.#byName.values()].filter((m) => m.state === 'normal' && m.pchannel === pchannel);
  }

  #liveCount(pchannel: string): number {
    let n = 0;
    for (const m of this.#byName.values()) if (m.state === 'normal' && m.pchannel === pchannel) n++;
    return n;
  }
}

function shardOf(meta: VChannelMeta): number {
  return parseVChannelName(meta.vchannel)?.shardIndex ?? 0;
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}
