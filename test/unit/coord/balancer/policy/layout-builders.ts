/** Small builders for policy layouts in tests. */
import {
  defaultBalancePolicyConfig,
  type BalanceLayout,
  type BalancePolicyConfig,
  type BalanceResult,
  type LayoutChannel,
  type LayoutNode,
  type PolicyAssignment,
} from '../../../../../coord/balancer/policy/index.js';

/** The fixed "now" of policy tests: far past every default interval from timestamp 0. */
export const NOW_MS = 1_700_000_000_000;

export function node(serverId: number, flags: { frozen?: boolean; stopping?: boolean } = {}): LayoutNode {
  return { serverId: BigInt(serverId), address: `10.0.0.${serverId}:22222`, frozen: flags.frozen ?? false, stopping: flags.stopping ?? false };
}

export interface ChannelOptions {
  vchannels?: number;
  collections?: number[];
  /** Seconds since the last assignment; default: long ago (timestamp 0). */
  assignedAgoSeconds?: number;
  recoveryLagMs?: number;
}

export function channel(name: string, onNode?: number, o: ChannelOptions = {}): LayoutChannel {
  const collectionIds = o.collections?.map(BigInt);
  return {
    name,
    term: 2n,
    node: onNode === undefined ? undefined : BigInt(onNode),
    lastAssignSeconds: o.assignedAgoSeconds === undefined ? 0n : BigInt(Math.floor(NOW_MS / 1000) - o.assignedAgoSeconds),
    vchannelCount: o.vchannels ?? collectionIds?.length ?? 0,
    collectionIds,
    recoveryLagMs: o.recoveryLagMs,
  };
}

export function layout(channels: readonly LayoutChannel[], nodes: readonly LayoutNode[], config: Partial<BalancePolicyConfig> = {}): BalanceLayout {
  return { channels, nodes, config: defaultBalancePolicyConfig(config), nowMs: NOW_MS };
}

/** The assignments of a result, failing the test on `noNode`. */
export function assignmentsOf(result: BalanceResult): ReadonlyMap<string, PolicyAssignment> {
  if (result.kind !== 'assignments') throw new Error(`expected assignments, got ${result.kind}`);
  return result.assignments;
}

/** name → server id (as number) of a result. */
export function placement(result: BalanceResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, a] of assignmentsOf(result)) out[name] = Number(a.node.serverId);
  return out;
}

/** server id → channel count over the result, for the given nodes (zeros included). */
export function countsPerNode(result: BalanceResult, nodeIds: readonly bigint[]): Map<bigint, number> {
  const counts = new Map<bigint, number>(nodeIds.map((id) => [id, 0]));
  for (const a of assignmentsOf(result).values()) counts.set(a.node.serverId, (counts.get(a.node.serverId) ?? 0) + 1);
  return counts;
}

/** The layout after the balancer applied `result` long enough ago that nothing is pinned by time. */
export function apply(l: BalanceLayout, result: BalanceResult): BalanceLayout {
  const a = assignmentsOf(result);
  return {
    ...l,
    channels: l.channels.map((c) => {
      const target = a.get(c.name);
      return { ...c, node: target?.node.serverId, lastAssignSeconds: target?.node.serverId === c.node ? c.lastAssignSeconds : 0n };
    }),
  };
}
