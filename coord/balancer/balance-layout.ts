/**
 * The policy input of one pass (Milvus `generateCurrentLayout`, reference `milvus-coord.md` §3.4):
 * every pchannel from the channel manager, placed only when ASSIGNED (ASSIGNING, UNAVAILABLE and
 * UNINITIALIZED channels are "new incoming", which is how every incomplete state gets repaired),
 * merged with vchannel stats and the recovery lag the owning node reported at the current term.
 * Also the compact log form of a pass's moves.
 */
import { formatPChannelInfo } from '../../shared/index.js';
import type { PChannelMeta } from '../catalog/index.js';
import { formatStreamingNode, isAssigned } from '../channel/index.js';
import type { ChannelLayoutView } from '../channel/index.js';
import type { VChannelStatsProvider } from './balancer-options.js';
import type { CollectedNodes } from './node-status.js';
import type { BalanceLayout, BalancePolicyConfig, LayoutChannel } from './policy/index.js';

/** Inputs of {@link buildBalanceLayout}. */
export interface LayoutInputs {
  readonly view: ChannelLayoutView;
  readonly collected: CollectedNodes;
  readonly config: BalancePolicyConfig;
  readonly vchannelStats: VChannelStatsProvider;
  readonly nowMs: number;
}

/** Builds the {@link BalanceLayout} of one pass. */
export function buildBalanceLayout(inputs: LayoutInputs): BalanceLayout {
  const { view, collected } = inputs;
  const channels = view.channels.map((meta): LayoutChannel => {
    const assigned = isAssigned(meta) ? meta.node : undefined;
    const stats = inputs.vchannelStats(meta.channel.name);
    const lag = collected.lags.get(meta.channel.name);
    // Only the owner's report at the current term describes this WAL; anything else is stale.
    const recoveryLagMs = assigned !== undefined && lag?.serverId === assigned.serverId && lag.term === meta.channel.term ? lag.lagMs : undefined;
    return Object.freeze({
      name: meta.channel.name,
      term: meta.channel.term,
      node: assigned?.serverId,
      lastAssignSeconds: meta.lastAssignTimestampSeconds,
      vchannelCount: stats?.count ?? 0,
      collectionIds: stats?.collectionIds,
      recoveryLagMs,
    });
  });
  return Object.freeze({ channels, nodes: collected.nodes, config: inputs.config, nowMs: inputs.nowMs });
}

/**
 * Compact form of a move, after Milvus `PChannelInfoAssigned.String()` (`channel>node`):
 * `name:rw@3>2@10.0.0.2:22222`, followed by each assignment still to be removed, oldest first,
 * as ` <rw@2>1@10.0.0.1:22222`.
 */
export function formatMove(meta: PChannelMeta): string {
  const head = `${formatPChannelInfo(meta.channel)}>${formatStreamingNode(meta.node)}`;
  return head + meta.histories.map((h) => ` <${h.accessMode}@${h.term}>${formatStreamingNode(h.node)}`).join('');
}
