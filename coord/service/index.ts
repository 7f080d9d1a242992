/**
 * The public surface of `coord/service/`: the coordinator's gRPC handlers (assignment discovery,
 * balance policy, TSO, admin, broadcast placeholders), the standby gate, and
 * {@link registerCoordinatorServices}, which adds them all to a grpc-js server.
 */
export { registerCoordinatorServices } from './register-coordinator-services.js';
export type { CoordinatorServices, CoordinatorServicesDeps } from './register-coordinator-services.js';
export { AssignmentDiscoverServer } from './assignment-discover-server.js';
export type { AssignmentDiscoverServerOptions, DiscoverStreamStats } from './assignment-discover-server.js';
export { assignmentServiceHandlers, balancePolicyStateToProto, balancePolicyUpdateFromProto } from './assignment-service.js';
export type { AssignmentServiceOptions } from './assignment-service.js';
export { broadcastServiceHandlers } from './broadcast-service.js';
export { DEFAULT_MAX_TIMESTAMPS_PER_CALL, tsoServiceHandlers } from './tso-server.js';
export type { TsoServerOptions } from './tso-server.js';
export { adminServiceHandlers } from './admin-server.js';
export type { ActiveCoordinator, ActiveCoordinatorProvider, AdminServerOptions } from './admin-server.js';
export { distributionToProto, listNodes, nodeListingToProto, vchannelMetaToProto } from './admin-convert.js';
export type { NodeListing, NodeState } from './admin-convert.js';
export { buildFullAssignment, closeResponse, fullAssignmentToProto } from './full-assignment.js';
export type { AssignmentDiscoverResponseProto, DiscoveredNode, FullAssignment } from './full-assignment.js';
export { ACTIVE_COORDINATOR_METADATA_KEY, notActiveError, notActiveServiceError, withStandbyGate } from './standby-gate.js';
export type { CoordinatorRole, CoordinatorRoleProvider } from './standby-gate.js';
export type { WriterStats } from './call-writer.js';
