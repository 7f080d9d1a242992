/**
 * `StreamingCoordAssignmentService` (Milvus `service/assignment.go`, reference
 * `milvus-coord.md` §6): `AssignmentDiscover` (see `assignment-discover-server.ts`),
 * `UpdateWALBalancePolicy`, and `UpdateReplicateConfiguration`, which answers UNIMPLEMENTED
 * (cross-cluster replication is not in this port yet, DESIGN §10).
 */
import type { BalancePolicyState, BalancePolicyUpdate, Balancer } from '../balancer/index.js';
import type { ProtoInputOf, ProtoOutput, StreamingCoordAssignmentServiceHandlers } from '../../shared/index.js';
import type { AssignmentDiscoverServer } from './assignment-discover-server.js';
import { int64FromProto, unaryHandler, unimplementedHandler } from './unary-handler.js';

type UpdateRequest = ProtoOutput<'milvus.proto.streaming.UpdateWALBalancePolicyRequest'>;
type UpdateResponse = ProtoInputOf<'milvus.proto.streaming.UpdateWALBalancePolicyResponse'>;

/** What the assignment service uses. */
export interface AssignmentServiceOptions {
  readonly discover: Pick<AssignmentDiscoverServer, 'handler'>;
  readonly balancer: Pick<Balancer, 'updateBalancePolicy'>;
}

/** The handlers of `StreamingCoordAssignmentService`. */
export function assignmentServiceHandlers(options: AssignmentServiceOptions): StreamingCoordAssignmentServiceHandlers {
  return {
    AssignmentDiscover: options.discover.handler,
    UpdateWALBalancePolicy: unaryHandler<UpdateRequest, UpdateResponse>(async (request) => {
      const state = await options.balancer.updateBalancePolicy(balancePolicyUpdateFromProto(request));
      return balancePolicyStateToProto(state);
    }),
    UpdateReplicateConfiguration: unimplementedHandler(
      'UpdateReplicateConfiguration',
      'cross-cluster replication is not supported by this coordinator yet',
    ),
  };
}

/**
 * Request → domain, keeping Milvus's field-mask semantics intact: an absent `update_mask` stays
 * absent (then `allow_rebalance` is always applied, a missing `config` reading as false), a present
 * one — even empty — is passed as its path list (only listed paths apply). The freeze / defreeze
 * lists apply whenever non-empty.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming a malformed node id.
 */
export function balancePolicyUpdateFromProto(request: UpdateRequest): BalancePolicyUpdate {
  const ids = (list: readonly string[] | undefined, field: string): bigint[] =>
    (list ?? []).map((id, i) => int64FromProto(id, `nodes.${field}[${i}]`));
  return {
    ...(request.config ? { allowRebalance: request.config.allow_rebalance } : {}),
    freezeNodeIds: ids(request.nodes?.freeze_node_ids, 'freeze_node_ids'),
    defreezeNodeIds: ids(request.nodes?.defreeze_node_ids, 'defreeze_node_ids'),
    ...(request.update_mask ? { updateMask: [...request.update_mask.paths] } : {}),
  };
}

/** Domain → response: the settings now in force. */
export function balancePolicyStateToProto(state: BalancePolicyState): UpdateResponse {
  return {
    config: { allow_rebalance: state.allowRebalance },
    freeze_node_ids: state.frozenNodeIds.map((id) => id.toString()),
  };
}
