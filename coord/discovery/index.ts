/**
 * Node discovery for the coordinator: the {@link NodeRegistry} contract the balancer and the
 * discovery server depend on, its session-fed implementation, and the gRPC client of a node's
 * `StreamingNodeManagerService`. Other coord/ folders import from here.
 */
export type {
  NodeCallOptions,
  NodeRegistry,
  NodeView,
  StreamingNodeManagerClient,
  StreamingNodeStatus,
  WalStatus,
} from './node-registry.js';
export {
  DEFAULT_NODE_CALL_TIMEOUT_MS,
  DEFAULT_NODE_CHANNEL_OPTIONS,
  GrpcNodeManagerClient,
  type GrpcNodeManagerClientOptions,
} from './node-manager-client.js';
export {
  assignRequestToProto,
  collectStatusFromProto,
  collectStatusToProto,
  removeRequestToProto,
  walStatusFromProto,
  walStatusToProto,
} from './node-manager-convert.js';
export {
  SessionNodeRegistry,
  type ClosableNodeManagerClient,
  type SessionNodeRegistryOptions,
} from './session-node-registry.js';
export { compareSemVer, minVersionFilter, parseSemVer } from './session-version.js';
