/**
 * Domain ⇄ proto for `WalAdminService` (STYLE §2: generated types stay at this edge). Node
 * listing and WAL distribution are computed here as domain values first, then converted, so the
 * rules (which nodes, which state) are testable without gRPC.
 */
import { pchannelInfoToProto } from '../../shared/index.js';
import type { PChannelInfo, ProtoInputOf } from '../../shared/index.js';
import { PChannelMetaState } from '../catalog/index.js';
import type { PChannelMeta, VChannelMeta } from '../catalog/index.js';
import type { AssignmentsView, ChannelManagerSnapshot, VersionPair } from '../channel/index.js';
import type { NodeView } from '../discovery/index.js';

type NodeInfoProto = ProtoInputOf<'streamingwal.v1.NodeInfo'>;
type DistributionProto = ProtoInputOf<'streamingwal.v1.GetWALDistributionResponse'>;
type PChannelDistributionProto = ProtoInputOf<'streamingwal.v1.PChannelDistribution'>;
type VChannelCatalogMetaProto = ProtoInputOf<'streamingwal.v1.VChannelCatalogMeta'>;

/** How an admin sees a live node. */
export type NodeState = 'online' | 'frozen' | 'stopping';

/** One live node with the channels it serves. */
export interface NodeListing {
  readonly serverId: bigint;
  readonly address: string;
  readonly state: NodeState;
  /** ASSIGNED channels with their terms, in name order. */
  readonly channels: readonly PChannelInfo[];
}

/**
 * Every live node (the registry's view), by server id. STOPPING wins over FROZEN: a stopping node
 * is going away whatever an admin decided. Channels are the ASSIGNED ones (what the node serves);
 * a channel being moved to the node shows up once its assignment completes.
 */
export function listNodes(view: NodeView, assignments: AssignmentsView, frozen: readonly bigint[]): NodeListing[] {
  const frozenSet = new Set(frozen);
  const channelsOf = new Map(assignments.nodes.map((n) => [n.node.serverId, n.channels] as const));
  return [...view.nodes.values()]
    .sort((a, b) => (a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0))
    .map((n) => ({
      serverId: n.serverId,
      address: n.address,
      state: n.stopping ? 'stopping' : frozenSet.has(n.serverId) ? 'frozen' : 'online',
      channels: channelsOf.get(n.serverId) ?? [],
    }));
}

const NODE_STATE_PROTO = {
  online: 'NODE_STATE_ONLINE',
  frozen: 'NODE_STATE_FROZEN',
  stopping: 'NODE_STATE_STOPPING',
} as const satisfies Record<NodeState, NodeInfoProto['state']>;

export function nodeListingToProto(n: NodeListing): NodeInfoProto {
  return {
    server_id: n.serverId.toString(),
    address: n.address,
    state: NODE_STATE_PROTO[n.state],
    channels: n.channels.map(pchannelInfoToProto),
  };
}

const META_STATE_PROTO = {
  [PChannelMetaState.UNKNOWN]: 'PCHANNEL_META_STATE_UNKNOWN',
  [PChannelMetaState.UNINITIALIZED]: 'PCHANNEL_META_STATE_UNINITIALIZED',
  [PChannelMetaState.ASSIGNING]: 'PCHANNEL_META_STATE_ASSIGNING',
  [PChannelMetaState.ASSIGNED]: 'PCHANNEL_META_STATE_ASSIGNED',
  [PChannelMetaState.UNAVAILABLE]: 'PCHANNEL_META_STATE_UNAVAILABLE',
} as const satisfies Record<PChannelMetaState, PChannelDistributionProto['state']>;

/** Every pchannel of the snapshot (name order) with its node, term, state, mode and last move. */
export function distributionToProto(snapshot: ChannelManagerSnapshot): DistributionProto {
  return {
    version: versionPairToProto(snapshot.version),
    pchannels: [...snapshot.channels.values()].map(pchannelDistributionToProto),
  };
}

function pchannelDistributionToProto(meta: PChannelMeta): PChannelDistributionProto {
  return {
    pchannel: meta.channel.name,
    // Absent until the pchannel was assigned once (UNINITIALIZED has no node).
    node: meta.node === undefined ? null : { server_id: meta.node.serverId.toString(), address: meta.node.address },
    term: meta.channel.term.toString(),
    state: META_STATE_PROTO[meta.state],
    access_mode: pchannelInfoToProto(meta.channel).access_mode ?? 'PCHANNEL_ACCESS_READWRITE',
    last_assign_timestamp_seconds: meta.lastAssignTimestampSeconds.toString(),
  };
}

export function versionPairToProto(v: VersionPair): { global: string; local: string } {
  return { global: v.global.toString(), local: v.local.toString() };
}

export function vchannelMetaToProto(m: VChannelMeta): VChannelCatalogMetaProto {
  return {
    vchannel: m.vchannel,
    pchannel: m.pchannel,
    collection_id: m.collectionId.toString(),
    state: m.state === 'normal' ? 'VCHANNEL_STATE_NORMAL' : 'VCHANNEL_STATE_DROPPED',
    create_timestamp: m.createTimestamp.toString(),
    drop_timestamp: m.dropTimestamp.toString(),
  };
}
