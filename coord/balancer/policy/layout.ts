/**
 * The input and output of a balance policy (Milvus `balancer.CurrentLayout` / `ExpectedLayout`,
 * reference `milvus-coord.md` §3.4), and the analysis both policies share: which nodes may take
 * channels, which channels stay placed, which may move. Policies are pure functions of a
 * {@link BalanceLayout}: same input, same output.
 */
import { StreamingError } from '../../../shared/index.js';
import type { AccessMode } from '../../../shared/index.js';
import type { BalancePolicyConfig } from './policy-config.js';

/** One pchannel as the balancer sees it. */
export interface LayoutChannel {
  readonly name: string;
  readonly term: bigint;
  /** Server id of the node holding it ASSIGNED; undefined while UNINITIALIZED, ASSIGNING or UNAVAILABLE. */
  readonly node?: bigint | undefined;
  /** Unix seconds of the last completed assignment (0 = never). */
  readonly lastAssignSeconds: bigint;
  /** Number of vchannels on this pchannel. */
  readonly vchannelCount: number;
  /** Collection id of each vchannel, for vchannelFair's anti-affinity; none = no affinity data. */
  readonly collectionIds?: readonly bigint[] | undefined;
  /** Recovery lag of its WAL (mvcc − recovery time tick) if known; a lagging WAL is not moved. */
  readonly recoveryLagMs?: number | undefined;
}

/** One streaming node with a session. A node absent from the layout is gone. */
export interface LayoutNode {
  readonly serverId: bigint;
  readonly address: string;
  /** Frozen by an admin: its channels move off, it gets nothing new. */
  readonly frozen: boolean;
  /** Shutting down (session `Stopping`): treated like frozen. */
  readonly stopping: boolean;
}

/** Everything a policy decides from. */
export interface BalanceLayout {
  readonly channels: readonly LayoutChannel[];
  readonly nodes: readonly LayoutNode[];
  readonly config: BalancePolicyConfig;
  /** Wall clock (ms) the minimum rebalance interval is measured against. */
  readonly nowMs: number;
}

/** Where a channel should be: shaped like the channel manager's `ExpectedAssignment`. */
export interface PolicyAssignment {
  readonly node: { readonly serverId: bigint; readonly address: string };
  readonly accessMode: AccessMode;
}

/**
 * A policy's answer: the full expected placement of every channel, or `noNode` when no node may
 * take channels (the balancer backs off instead of failing hard).
 */
export type BalanceResult =
  | { readonly kind: 'assignments'; readonly assignments: ReadonlyMap<string, PolicyAssignment> }
  | { readonly kind: 'noNode' };

/** A named balance policy. */
export interface BalancePolicy {
  readonly name: string;
  balance(layout: BalanceLayout): BalanceResult;
}

/** What both policies start from. */
export interface AnalyzedLayout {
  /** Nodes that may take channels (not frozen, not stopping), by server id. */
  readonly healthy: readonly LayoutNode[];
  /** Every channel, by name. */
  readonly channels: readonly LayoutChannel[];
  /** Channels currently ASSIGNED on a healthy node → that node. */
  readonly placed: ReadonlyMap<string, bigint>;
  /** Placed channels a rebalance may move (rebalance allowed, interval elapsed, no recovery lag). */
  readonly movable: ReadonlySet<string>;
  /** Channels that must be placed this round: never placed, not ASSIGNED, or on a gone/frozen/stopping node. */
  readonly pending: readonly LayoutChannel[];
}

/**
 * Validates and analyses a layout; undefined when no node is healthy.
 *
 * @throws StreamingError INVAILD_ARGUMENT on duplicate channel names or server ids, or a bad vchannel count.
 */
export function analyzeLayout(layout: BalanceLayout): AnalyzedLayout | undefined {
  const nodeIds = new Set<bigint>();
  for (const n of layout.nodes) {
    if (nodeIds.has(n.serverId)) throw StreamingError.invalidArgument('layout.nodes', `duplicate server id ${n.serverId}`);
    nodeIds.add(n.serverId);
  }
  const healthy = layout.nodes.filter((n) => !n.frozen && !n.stopping).sort((a, b) => compareIds(a.serverId, b.serverId));
  if (healthy.length === 0) return undefined;
  const healthyIds = new Set(healthy.map((n) => n.serverId));

  const channels = [...layout.channels].sort((a, b) => compareStrings(a.name, b.name));
  const placed = new Map<string, bigint>();
  const movable = new Set<string>();
  const pending: LayoutChannel[] = [];
  let previous: string | undefined;
  for (const c of channels) {
    if (c.name === previous) throw StreamingError.invalidArgument('layout.channels', `duplicate channel ${c.name}`);
    previous = c.name;
    if (!Number.isInteger(c.vchannelCount) || c.vchannelCount < 0) {
      throw StreamingError.invalidArgument(`layout.channels[${c.name}].vchannelCount`, `must be an integer >= 0, got ${c.vchannelCount}`);
    }
    if (c.node === undefined || !healthyIds.has(c.node)) {
      pending.push(c);
      continue;
    }
    placed.set(c.name, c.node);
    if (mayMove(c, layout)) movable.add(c.name);
  }
  return { healthy, channels, placed, movable, pending };
}

/**
 * May a healthy placement be moved for balance? Not when rebalancing is off, within the minimum
 * interval of its last assignment (issue #42995: moving a WAL costs availability, so churn is
 * bounded), or while its WAL is still catching up.
 */
export function mayMove(channel: LayoutChannel, layout: BalanceLayout): boolean {
  const { config } = layout;
  if (!config.allowRebalance) return false;
  if (layout.nowMs - Number(channel.lastAssignSeconds) * 1000 < config.minRebalanceIntervalMs) return false;
  return channel.recoveryLagMs === undefined || channel.recoveryLagMs <= config.rebalanceRecoveryLagThresholdMs;
}

/** Builds the result map in channel-name order from `serverId` placements. */
export function toResult(layout: BalanceLayout, analyzed: AnalyzedLayout, placements: ReadonlyMap<string, bigint>): BalanceResult {
  const nodes = new Map(analyzed.healthy.map((n) => [n.serverId, Object.freeze({ serverId: n.serverId, address: n.address })] as const));
  const assignments = new Map<string, PolicyAssignment>();
  for (const c of analyzed.channels) {
    const serverId = placements.get(c.name);
    const node = serverId === undefined ? undefined : nodes.get(serverId);
    // Unreachable by construction: every channel is placed on a healthy node.
    if (node === undefined) throw StreamingError.inner(`policy left channel ${c.name} without a healthy node`);
    assignments.set(c.name, Object.freeze({ node, accessMode: layout.config.expectedAccessMode }));
  }
  return { kind: 'assignments', assignments };
}

/**
 * Moves in a result: channels that were ASSIGNED on a healthy node and are expected elsewhere.
 * Placing a lost or new channel is not a move.
 */
export function countMoves(layout: BalanceLayout, assignments: ReadonlyMap<string, PolicyAssignment>): number {
  const analyzed = analyzeLayout(layout);
  if (analyzed === undefined) return 0;
  let moves = 0;
  for (const [name, serverId] of analyzed.placed) {
    if (assignments.get(name)?.node.serverId !== serverId) moves++;
  }
  return moves;
}

/** Ascending bigint order. */
export function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Code-unit string order (deterministic tie-breaks). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
