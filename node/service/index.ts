/**
 * The node's gRPC services: manager (Assign / Remove / CollectStatus), state
 * (GetComponentStates), the standard health service, and the server plumbing they share. The
 * handler service (Produce / Consume) joins through the same {@link ServiceRegistration}.
 */
export { type ServiceRegistration, serviceNameOf } from './service-registration.js';
export { NodeHealth, STATE_CODE_OF, type NodeHealthListener, type NodeServingState } from './health-state.js';
export { componentStates, stateServiceHandlers, stateServiceRegistration } from './state-service.js';
export { HEALTH_SERVICE_NAME, HealthService, serviceNames, servingStatusOf, type ServingStatus } from './health-service.js';
export {
  ManagerService,
  walMetricsToProto,
  type ManagerServiceOptions,
  type ManagerServiceWals,
  type WalStatusMetrics,
} from './manager-service.js';
export { createGrpcServer } from './grpc-server.js';
export {
  HandlerService,
  handlerServiceImplementation,
  type HandlerServiceOptions,
  type HandlerStreamStats,
} from './handler-service.js';
