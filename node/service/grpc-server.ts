/**
 * The node's grpc-js server, built from its service registrations. Binding and the two-step
 * shutdown are shared with the coordinator (`bindGrpcServer` / `shutdownGrpcServer` in shared/).
 */
import * as grpc from '@grpc/grpc-js';
import type { ServiceRegistration } from './service-registration.js';

/** Creates a server with every registration added. */
export function createGrpcServer(registrations: readonly ServiceRegistration[], options: grpc.ServerOptions = {}): grpc.Server {
  const server = new grpc.Server(options);
  for (const r of registrations) server.addService(r.definition, r.handlers);
  return server;
}
