/**
 * What `AssignmentDiscover` sends, built from the domain state at the service edge (STYLE §2):
 * the channel manager's snapshot (version, cchannel, ASSIGNED channels) joined with the node
 * registry's view (every live node, so nodes without channels are announced too, as Milvus's
 * `SendFullAssignment` does after `TriggerWatchUpdate`).
 */
import { pchannelInfoToProto } from '../../shared/index.js';
import type { PChannelInfo, ProtoInputOf } from '../../shared/index.js';
import type { StreamingNodeInfo } from '../catalog/index.js';
import { assignmentsOf } from '../channel/index.js';
import type { ChannelManagerSnapshot, VersionPair } from '../channel/index.js';
import type { NodeView } from '../discovery/index.js';

/** Wire form of one discovery response. */
export type AssignmentDiscoverResponseProto = ProtoInputOf<'milvus.proto.streaming.AssignmentDiscoverResponse'>;

/** One node and its ASSIGNED channels (possibly none). */
export interface DiscoveredNode {
  readonly node: StreamingNodeInfo;
  /** In name order. */
  readonly channels: readonly PChannelInfo[];
}

/** The domain form of `FullStreamingNodeAssignmentWithVersion`. */
export interface FullAssignment {
  readonly version: VersionPair;
  readonly cchannel: string;
  readonly streamingVersion: bigint;
  /** Every live node plus every node still holding an ASSIGNED channel, by server id. */
  readonly nodes: readonly DiscoveredNode[];
}

/**
 * Joins a channel snapshot and a node view. A node that left the view but still holds ASSIGNED
 * channels stays listed with them (Milvus 2.6; master drops it): clients that try it fail and
 * report, which is what makes the balancer move the channel, while hiding it would leave them
 * waiting without a report. Live nodes without channels are listed with an empty list.
 */
export function buildFullAssignment(snapshot: ChannelManagerSnapshot, view: NodeView, streamingVersion: bigint): FullAssignment {
  const byId = new Map<bigint, DiscoveredNode>();
  for (const n of view.nodes.values()) byId.set(n.serverId, { node: { serverId: n.serverId, address: n.address }, channels: [] });
  for (const assigned of assignmentsOf(snapshot).nodes) byId.set(assigned.node.serverId, { node: assigned.node, channels: assigned.channels });
  const nodes = [...byId.values()].sort((a, b) => (a.node.serverId < b.node.serverId ? -1 : a.node.serverId > b.node.serverId ? 1 : 0));
  return Object.freeze({ version: snapshot.version, cchannel: snapshot.cchannel, streamingVersion, nodes: Object.freeze(nodes) });
}

/** `{full_assignment: …}` with every int64 as a decimal string (protobufjs would zero a bigint). */
export function fullAssignmentToProto(a: FullAssignment): AssignmentDiscoverResponseProto {
  return {
    full_assignment: {
      version: { global: a.version.global.toString(), local: a.version.local.toString() },
      assignments: a.nodes.map((n) => ({
        node: { server_id: n.node.serverId.toString(), address: n.node.address },
        channels: n.channels.map(pchannelInfoToProto),
      })),
      cchannel: { meta: { pchannel: a.cchannel } },
      streaming_version: { version: a.streamingVersion.toString() },
    },
  };
}

/** The last frame of a stream the client closed (`close` request or half-close). */
export function closeResponse(): AssignmentDiscoverResponseProto {
  return { close: {} };
}
