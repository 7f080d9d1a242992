/**
 * `milvus.proto.streaming.StreamingNodeStateService.GetComponentStates`: the node's Milvus-style
 * component state (Milvus `componentutil` health checks and the coordinator read it).
 */
import {
  STREAMING_NODE_ROLE,
  type ProtoInputOf,
  type StreamingNodeStateServiceHandlers,
  serviceDefinitions,
} from '../../shared/index.js';
import { STATE_CODE_OF, type NodeHealth } from './health-state.js';
import type { ServiceRegistration } from './service-registration.js';

type ComponentStatesProto = ProtoInputOf<'milvus.proto.milvus.ComponentStates'>;

/**
 * The node's `ComponentStates`: `{state: {nodeID, role: 'streamingnode', state_code}, status}`
 * with state code Initializing / Healthy / Stopping, and a success status (the call itself
 * worked; the state is in `state_code`).
 */
export function componentStates(health: NodeHealth): ComponentStatesProto {
  return {
    state: {
      nodeID: health.serverId.toString(),
      role: STREAMING_NODE_ROLE,
      state_code: STATE_CODE_OF[health.state],
      extra_info: [],
    },
    subcomponent_states: [],
    status: { code: 0, reason: '' },
  };
}

/** The handlers of `StreamingNodeStateService`. */
export function stateServiceHandlers(health: NodeHealth): StreamingNodeStateServiceHandlers {
  return {
    GetComponentStates: (_call, callback) => callback(null, componentStates(health)),
  };
}

/** `StreamingNodeStateService` as a registration for the node server. */
export function stateServiceRegistration(health: NodeHealth): ServiceRegistration {
  return { definition: serviceDefinitions().streamingNodeState, handlers: stateServiceHandlers(health) };
}
