/**
 * How a gRPC service joins the node's server: its definition, its handlers, and (for services
 * with long-lived calls) how to end those calls when the node stops. The node server adds every
 * registration it is given, so Produce / Consume (and anything later) plug in the same way as the
 * manager, state and health services.
 */
import type * as grpc from '@grpc/grpc-js';

/** One gRPC service of the node. */
export interface ServiceRegistration {
  /** From `serviceDefinitions()`, e.g. `serviceDefinitions().streamingNodeManager`. */
  readonly definition: grpc.ServiceDefinition;
  readonly handlers: grpc.UntypedServiceImplementation;
  /**
   * Ends this service's long-lived calls (streams) with `reason` (an ON_SHUTDOWN StreamingError).
   * The server calls it right after it stopped accepting new calls, so a graceful shutdown does
   * not have to wait out its timeout for streams that would never end on their own.
   */
  close?(reason: Error): Promise<void>;
}

/**
 * The full service name of a definition (`milvus.proto.streaming.StreamingNodeManagerService`),
 * read from the path of its first method (`/<service>/<method>`).
 */
export function serviceNameOf(definition: grpc.ServiceDefinition): string {
  for (const method of Object.values(definition)) {
    const path = method.path;
    const slash = path.lastIndexOf('/');
    if (path.startsWith('/') && slash > 0) return path.slice(1, slash);
  }
  throw new TypeError('service definition has no method with a /<service>/<method> path');
}
