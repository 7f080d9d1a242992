/**
 * Immutable snapshots of the channel manager's state and the views derived from them: the
 * assignment listing that discovery streams to clients, and the per-channel layout the balancer
 * feeds to its policy. Snapshots are never mutated; every change builds a new one.
 */
import type { PChannelInfo } from '../../shared/index.js';
import type { PChannelMeta, StreamingNodeInfo } from '../catalog/index.js';
import { isAssigned } from './pchannel-meta.js';
import type { VersionPair } from './version-pair.js';

/** The whole channel-manager state at one version. */
export interface ChannelManagerSnapshot {
  readonly version: VersionPair;
  /** The pchannel hosting the control channel (Milvus `CChannelMeta.pchannel`), chosen once. */
  readonly cchannel: string;
  /** Every known pchannel by name, in name order. */
  readonly channels: ReadonlyMap<string, PChannelMeta>;
}

/** The ASSIGNED channels of one node. */
export interface NodeAssignments {
  readonly node: StreamingNodeInfo;
  /** In name order. */
  readonly channels: readonly PChannelInfo[];
}

/** What discovery sends (Milvus `FullStreamingNodeAssignmentWithVersion`, without idle nodes). */
export interface AssignmentsView {
  readonly version: VersionPair;
  readonly cchannel: string;
  /** Nodes holding at least one ASSIGNED channel, by server id; discovery adds idle nodes. */
  readonly nodes: readonly NodeAssignments[];
}

/** What the balancer builds its policy layout from. */
export interface ChannelLayoutView {
  readonly version: VersionPair;
  /** Every pchannel meta in name order, in every state (the balancer decides what is placed). */
  readonly channels: readonly PChannelMeta[];
}

/** Builds a frozen snapshot; `channels` is re-keyed in name order so views come out sorted. */
export function makeSnapshot(version: VersionPair, cchannel: string, channels: Iterable<PChannelMeta>): ChannelManagerSnapshot {
  const sorted = [...channels].sort((a, b) => compareNames(a.channel.name, b.channel.name));
  const map = new Map(sorted.map((m) => [m.channel.name, m] as const));
  return Object.freeze({ version, cchannel, channels: map });
}

/** Groups ASSIGNED channels by node (server id order); UNINITIALIZED/ASSIGNING/UNAVAILABLE are left out. */
export function assignmentsOf(snapshot: ChannelManagerSnapshot): AssignmentsView {
  const byNode = new Map<bigint, { node: StreamingNodeInfo; channels: PChannelInfo[] }>();
  for (const meta of snapshot.channels.values()) {
    if (!isAssigned(meta) || meta.node === undefined) continue;
    let entry = byNode.get(meta.node.serverId);
    if (entry === undefined) {
      entry = { node: meta.node, channels: [] };
      byNode.set(meta.node.serverId, entry);
    }
    entry.channels.push(meta.channel);
  }
  const nodes = [...byNode.values()]
    .sort((a, b) => (a.node.serverId < b.node.serverId ? -1 : a.node.serverId > b.node.serverId ? 1 : 0))
    .map((e) => Object.freeze({ node: e.node, channels: Object.freeze(e.channels) }));
  return Object.freeze({ version: snapshot.version, cchannel: snapshot.cchannel, nodes: Object.freeze(nodes) });
}

/** Every meta in name order with the snapshot's version. */
export function layoutOf(snapshot: ChannelManagerSnapshot): ChannelLayoutView {
  return Object.freeze({ version: snapshot.version, channels: Object.freeze([...snapshot.channels.values()]) });
}

/** Plain code-unit order, so `dml_10` sorts before `dml_2` exactly as Milvus's string compare does. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
