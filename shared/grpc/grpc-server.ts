/**
 * Binding and shutting down a grpc-js server, the same for the coordinator and the node: bind
 * without TLS (port 0 supported) and the two-step shutdown of STYLE §5 (`tryShutdown`, then
 * `forceShutdown` after a timeout).
 */
import * as grpc from '@grpc/grpc-js';
import { StreamingError } from '../errors/index.js';

/**
 * Binds `host:port` (port 0 = a free one) without TLS and resolves with the bound port. `what`
 * names the server in the error (e.g. "the node's gRPC server").
 * @throws StreamingError INNER naming the address when it cannot bind (in use, bad host).
 */
export function bindGrpcServer(server: grpc.Server, host: string, port: number, what: string): Promise<number> {
  const address = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(StreamingError.inner(`cannot bind ${what} to ${address}: ${error.message}`, error));
      else resolve(bound);
    });
  });
}

/**
 * Stops accepting calls and waits up to `timeoutMs` for the running ones to finish, then cancels
 * whatever is left. Resolves `true` when every call finished on its own, `false` when it had to force.
 */
export function shutdownGrpcServer(server: grpc.Server, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      server.forceShutdown();
      resolve(false);
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      resolve(true);
    });
  });
}
