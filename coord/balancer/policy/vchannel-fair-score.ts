/**
 * The unbalance score of `vchannelFair` (Milvus `expectedLayoutForVChannelFairPolicy`, reference
 * `milvus-coord.md` §3.5). Per node:
 *
 *   pW·((pcount − avgP)/avgP)² + vW·((vcount − avgV)/avgV)² + aW·Σ_{pairs on node}(1 − affinity)
 *
 * with averages over the healthy nodes (a term is skipped when its average is 0). The global score
 * is the sum over nodes; lower is better. Node costs are cached and recomputed on change, and the
 * global score is summed afresh in server-id order, so one assignment always has one exact score
 * (no drift from incremental updates, which would break determinism and convergence).
 */
import type { LayoutChannel } from './layout.js';
import type { VChannelFairConfig } from './policy-config.js';

interface NodeState {
  /** Channel indices, ascending. */
  members: number[];
  vchannels: number;
  cost: number;
}

/** Mutable assignment of channels to nodes with its score. */
export class FairScoreModel {
  readonly #cfg: VChannelFairConfig;
  readonly #index = new Map<string, number>();
  readonly #vcounts: number[];
  readonly #affinity: Float64Array | undefined;
  readonly #nodeIds: readonly bigint[];
  readonly #nodes = new Map<bigint, NodeState>();
  readonly #assigned = new Map<number, bigint>();
  readonly #avgP: number;
  readonly #avgV: number;

  /** `channels` and `nodeIds` must be sorted (name, server id) for deterministic results. */
  constructor(channels: readonly LayoutChannel[], nodeIds: readonly bigint[], cfg: VChannelFairConfig) {
    this.#cfg = cfg;
    channels.forEach((c, i) => this.#index.set(c.name, i));
    this.#vcounts = channels.map((c) => c.vchannelCount);
    this.#nodeIds = nodeIds;
    for (const id of nodeIds) this.#nodes.set(id, { members: [], vchannels: 0, cost: 0 });
    const totalV = this.#vcounts.reduce((a, b) => a + b, 0);
    this.#avgP = channels.length / nodeIds.length;
    this.#avgV = totalV / nodeIds.length;
    this.#affinity = cfg.antiAffinityWeight > 0 ? affinityMatrix(channels) : undefined;
    for (const state of this.#nodes.values()) state.cost = this.#cost(state);
  }

  /** Where `name` is assigned in this model, if anywhere. */
  nodeOf(name: string): bigint | undefined {
    return this.#assigned.get(this.#indexOf(name));
  }

  /** Sum of node costs, in server-id order. */
  score(): number {
    let total = 0;
    for (const id of this.#nodeIds) total += this.#node(id).cost;
    return total;
  }

  /** The score with `name` on `serverId`, leaving the model as it was. */
  tryAssignScore(name: string, serverId: bigint): number {
    this.assign(name, serverId);
    const score = this.score();
    this.unassign(name);
    return score;
  }

  /** The score without `name`, leaving the model as it was. */
  tryUnassignScore(name: string): number {
    const serverId = this.nodeOf(name);
    if (serverId === undefined) return this.score();
    this.unassign(name);
    const score = this.score();
    this.assign(name, serverId);
    return score;
  }

  /** Puts `name` on `serverId`; throws RangeError if it is already assigned or either is unknown. */
  assign(name: string, serverId: bigint): void {
    const i = this.#indexOf(name);
    if (this.#assigned.has(i)) throw new RangeError(`channel ${name} is already assigned`);
    const state = this.#node(serverId);
    const at = state.members.findIndex((m) => m > i);
    state.members.splice(at === -1 ? state.members.length : at, 0, i);
    state.vchannels += this.#vcounts[i] ?? 0;
    state.cost = this.#cost(state);
    this.#assigned.set(i, serverId);
  }

  /** Takes `name` off its node; throws RangeError if it is not assigned. */
  unassign(name: string): void {
    const i = this.#indexOf(name);
    const serverId = this.#assigned.get(i);
    if (serverId === undefined) throw new RangeError(`channel ${name} is not assigned`);
    const state = this.#node(serverId);
    state.members.splice(state.members.indexOf(i), 1);
    state.vchannels -= this.#vcounts[i] ?? 0;
    state.cost = this.#cost(state);
    this.#assigned.delete(i);
  }

  #cost(state: NodeState): number {
    let cost = 0;
    if (this.#avgP !== 0) {
      const d = (state.members.length - this.#avgP) / this.#avgP;
      cost += this.#cfg.pchannelWeight * d * d;
    }
    if (this.#avgV !== 0) {
      const d = (state.vchannels - this.#avgV) / this.#avgV;
      cost += this.#cfg.vchannelWeight * d * d;
    }
    const aff = this.#affinity;
    if (aff !== undefined) {
      const n = this.#vcounts.length;
      const m = state.members;
      for (let a = 0; a < m.length; a++) {
        for (let b = a + 1; b < m.length; b++) cost += this.#cfg.antiAffinityWeight * (1 - (aff[(m[a] ?? 0) * n + (m[b] ?? 0)] ?? 1));
      }
    }
    return cost;
  }

  #indexOf(name: string): number {
    const i = this.#index.get(name);
    if (i === undefined) throw new RangeError(`unknown channel ${name}`);
    return i;
  }

  #node(serverId: bigint): NodeState {
    const state = this.#nodes.get(serverId);
    if (state === undefined) throw new RangeError(`unknown node ${serverId}`);
    return state;
  }
}

/**
 * Milvus `pchannelAffinity`: over the multiset of both pchannels' collection ids, `distinct` keys and
 * `repeated` = the summed counts of keys seen more than once; affinity = (distinct − repeated) /
 * distinct, or 1 when both are empty. 1 = nothing shared; ≤ 0 = everything shared (it may go
 * negative, as in Milvus, which only makes sharing pairs costlier).
 */
export function pchannelAffinity(a: readonly bigint[], b: readonly bigint[]): number {
  const counter = new Map<bigint, number>();
  for (const id of a) counter.set(id, (counter.get(id) ?? 0) + 1);
  for (const id of b) counter.set(id, (counter.get(id) ?? 0) + 1);
  if (counter.size === 0) return 1;
  let repeated = 0;
  for (const count of counter.values()) if (count > 1) repeated += count;
  return (counter.size - repeated) / counter.size;
}

function affinityMatrix(channels: readonly LayoutChannel[]): Float64Array {
  const n = channels.length;
  const m = new Float64Array(n * n).fill(1);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = pchannelAffinity(channels[i]?.collectionIds ?? [], channels[j]?.collectionIds ?? []);
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  }
  return m;
}
