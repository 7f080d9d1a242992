/**
 * The balancer's runtime policy settings: the `allowRebalance` flag and the set of frozen nodes,
 * changed by `UpdateWALBalancePolicy` (reference `milvus-coord.md` §6.1, §3.6). Like Milvus they
 * live in memory only: a restarted coordinator starts from the configured `allowRebalance` and no
 * frozen node.
 */
import { StreamingError } from '../../shared/index.js';
import type { Logger } from '../../shared/index.js';

/** The one update-mask path Milvus knows (`types.UpdateMaskPathWALBalancePolicyAllowRebalance`). */
export const UPDATE_MASK_ALLOW_REBALANCE = 'config.allow_rebalance';

/**
 * An `UpdateWALBalancePolicy` request in domain form.
 *
 * Field-mask semantics (Milvus): with `updateMask` **absent**, `allowRebalance` is always applied
 * and a missing value means `false` (proto3 default), exactly as the RPC behaves. With a mask
 * **present**, only the listed paths are applied; an empty mask changes no config field. Freeze and
 * defreeze lists are applied whenever non-empty, regardless of the mask: freeze first, then
 * defreeze (an id in both ends up not frozen).
 */
export interface BalancePolicyUpdate {
  readonly allowRebalance?: boolean;
  readonly freezeNodeIds?: readonly bigint[];
  readonly defreezeNodeIds?: readonly bigint[];
  readonly updateMask?: readonly string[];
}

/** The settings after an update (the RPC response). */
export interface BalancePolicyState {
  readonly allowRebalance: boolean;
  /** Ascending. */
  readonly frozenNodeIds: readonly bigint[];
}

/** Mutable holder of the settings; owned by the balancer. */
export class BalanceSettings {
  readonly #logger: Logger;
  readonly #frozen = new Set<bigint>();
  #allowRebalance: boolean;

  constructor(allowRebalance: boolean, logger: Logger) {
    this.#allowRebalance = allowRebalance;
    this.#logger = logger;
  }

  get allowRebalance(): boolean {
    return this.#allowRebalance;
  }

  /** The frozen server ids right now. */
  frozen(): ReadonlySet<bigint> {
    return new Set(this.#frozen);
  }

  state(): BalancePolicyState {
    const frozenNodeIds = [...this.#frozen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.freeze({ allowRebalance: this.#allowRebalance, frozenNodeIds: Object.freeze(frozenNodeIds) });
  }

  /**
   * Applies `update` (see {@link BalancePolicyUpdate}). All-or-nothing: a bad mask path is rejected
   * before anything changes.
   *
   * A freeze id that is not a live node (`isLive` false) is a logged no-op rather than an error:
   * freezing only means something for a node with a session, and Milvus would drop such an id at
   * the next round anyway (freezes are cleared when a node leaves). Defreezing an id that is not
   * frozen is likewise a no-op.
   *
   * @throws StreamingError INVAILD_ARGUMENT for an unknown mask path.
   */
  apply(update: BalancePolicyUpdate, isLive: (serverId: bigint) => boolean): BalancePolicyState {
    const mask = update.updateMask;
    if (mask !== undefined) {
      for (const path of mask) {
        if (path !== UPDATE_MASK_ALLOW_REBALANCE) {
          throw StreamingError.invalidArgument('update_mask', `unknown path ${JSON.stringify(path)}; known: ${UPDATE_MASK_ALLOW_REBALANCE}`);
        }
      }
    }
    if (mask === undefined || mask.includes(UPDATE_MASK_ALLOW_REBALANCE)) {
      const next = update.allowRebalance ?? false;
      if (next !== this.#allowRebalance) this.#logger.info({ old: this.#allowRebalance, new: next }, 'allow_rebalance updated');
      this.#allowRebalance = next;
    }
    const freeze = update.freezeNodeIds ?? [];
    const defreeze = update.defreezeNodeIds ?? [];
    if (freeze.length > 0 || defreeze.length > 0) {
      const ignored = freeze.filter((id) => !isLive(id));
      for (const id of freeze) if (isLive(id)) this.#frozen.add(id);
      for (const id of defreeze) this.#frozen.delete(id);
      this.#logger.info(
        { freeze: freeze.map(String), defreeze: defreeze.map(String), ignoredUnknown: ignored.map(String), frozen: this.state().frozenNodeIds.map(String) },
        'frozen nodes updated',
      );
    }
    return this.state();
  }

  /** Forgets frozen nodes that left (Milvus clears them once the session is gone). */
  prune(isLive: (serverId: bigint) => boolean): void {
    for (const id of [...this.#frozen]) {
      if (isLive(id)) continue;
      this.#frozen.delete(id);
      this.#logger.info({ serverId: id.toString() }, 'frozen node left the session view, freeze cleared');
    }
  }
}
