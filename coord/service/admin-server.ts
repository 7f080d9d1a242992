/**
 * `streamingwal.v1.WalAdminService`: vchannel allocation / drop / listing, node listing, WAL
 * distribution, an on-demand balance round, and who the active coordinator is. Requests are
 * validated here; a malformed field is INVAILD_ARGUMENT naming it (e.g. `vchannels[2]`).
 */
import { StreamingError, validatePChannelName } from '../../shared/index.js';
import type { ProtoInputOf, ProtoOutput, WalAdminServiceHandlers } from '../../shared/index.js';
import type { Balancer } from '../balancer/index.js';
import type { ChannelManager } from '../channel/index.js';
import type { NodeRegistry } from '../discovery/index.js';
import type { VChannelAllocator } from '../vchannel/index.js';
import { distributionToProto, listNodes, nodeListingToProto, vchannelMetaToProto } from './admin-convert.js';
import { int64FromProto, unaryHandler } from './unary-handler.js';

/** The active coordinator, as `GetActiveCoordinator` reports it. */
export interface ActiveCoordinator {
  readonly serverId: bigint;
  readonly address: string;
}

/** Who is active right now; undefined while nobody is known to be (election in progress). */
export type ActiveCoordinatorProvider = () => ActiveCoordinator | undefined;

/** What the admin service uses. */
export interface AdminServerOptions {
  readonly channels: Pick<ChannelManager, 'snapshot' | 'currentAssignments'>;
  readonly registry: Pick<NodeRegistry, 'current'>;
  readonly balancer: Pick<Balancer, 'triggerBalance' | 'balancePolicy'>;
  readonly vchannels: Pick<VChannelAllocator, 'allocate' | 'drop' | 'list'>;
  readonly activeCoordinator: ActiveCoordinatorProvider;
}

type In<N extends string> = ProtoOutput<`streamingwal.v1.${N}`>;
type Out<N extends string> = ProtoInputOf<`streamingwal.v1.${N}`>;

/** The handlers of `WalAdminService`. */
export function adminServiceHandlers(o: AdminServerOptions): WalAdminServiceHandlers {
  return {
    AllocateVChannels: unaryHandler<In<'AllocateVChannelsRequest'>, Out<'AllocateVChannelsResponse'>>(async (req, { signal }) => {
      const collectionId = int64FromProto(req.collection_id, 'collection_id');
      // ext.proto: "0 is treated as 1".
      const count = req.count === 0 ? 1 : req.count;
      const allocation = await o.vchannels.allocate(collectionId, count, { signal });
      return {
        collection_id: allocation.collectionId.toString(),
        vchannels: allocation.vchannels.map((m) => ({ vchannel: m.vchannel, pchannel: m.pchannel })),
      };
    }),

    DropVChannels: unaryHandler<In<'DropVChannelsRequest'>, Out<'DropVChannelsResponse'>>(async (req, { signal }) => ({
      dropped: await o.vchannels.drop(req.vchannels, { signal }),
    })),

    ListVChannels: unaryHandler<In<'ListVChannelsRequest'>, Out<'ListVChannelsResponse'>>((req) => {
      const pchannel = req.pchannel === '' ? undefined : validatePChannelName(req.pchannel, 'pchannel');
      const list = o.vchannels.list({ ...(pchannel === undefined ? {} : { pchannel }), includeDropped: req.include_dropped });
      return { vchannels: list.map(vchannelMetaToProto) };
    }),

    ListNodes: unaryHandler<In<'ListNodesRequest'>, Out<'ListNodesResponse'>>(() => {
      const nodes = listNodes(o.registry.current(), o.channels.currentAssignments(), o.balancer.balancePolicy().frozenNodeIds);
      return { nodes: nodes.map(nodeListingToProto) };
    }),

    GetWALDistribution: unaryHandler<In<'GetWALDistributionRequest'>, Out<'GetWALDistributionResponse'>>(() =>
      distributionToProto(o.channels.snapshot()),
    ),

    // Waits for a round that starts after the call; a failed round fails the call with its error
    // (e.g. no streaming node), so an operator sees why nothing moved.
    TriggerBalance: unaryHandler<In<'TriggerBalanceRequest'>, Out<'TriggerBalanceResponse'>>(async (_req, { signal }) => {
      const outcome = await o.balancer.triggerBalance({ signal });
      if (!outcome.ok) throw outcome.error ?? StreamingError.unknown(`balance round ${outcome.round} failed`);
      return {};
    }),

    GetActiveCoordinator: unaryHandler<In<'GetActiveCoordinatorRequest'>, Out<'GetActiveCoordinatorResponse'>>(() => {
      const active = o.activeCoordinator();
      if (active === undefined) throw StreamingError.onShutdown('no active coordinator is known (election in progress)');
      return { server_id: active.serverId.toString(), address: active.address };
    }),
  };
}
