/**
 * The standard gRPC health service (`grpc.health.v1.Health`, proto/grpc/health/v1/health.proto)
 * for load balancers and probes. Every service of the node shares the node's state: SERVING while
 * it is healthy, NOT_SERVING while initializing (starting, or fenced and re-registering) and
 * from the moment a graceful shutdown begins.
 *
 * - `Check("")` asks about the server as a whole; `Check(name)` about one of its services; an
 *   unknown name fails with gRPC NOT_FOUND, as the protocol requires.
 * - `Watch(name)` sends the status now and then every change, until the client cancels or the
 *   server stops (`close()` ends every watch); an unknown name is reported as SERVICE_UNKNOWN and
 *   the call stays open, as the protocol requires.
 */
import * as grpc from '@grpc/grpc-js';
import { type HealthHandlers, serviceDefinitions } from '../../shared/index.js';
import type { NodeHealth, NodeServingState } from './health-state.js';
import { type ServiceRegistration, serviceNameOf } from './service-registration.js';

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` names. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** The full name of the health service itself. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** The health status of a node in `state`. */
export function servingStatusOf(state: NodeServingState): ServingStatus {
  return state === 'healthy' ? 'SERVING' : 'NOT_SERVING';
}

/**
 * The health service of a node whose service names `services()` returns (read on every call,
 * so services registered later count). The empty name and the health service itself are
 * always known.
 */
export class HealthService implements ServiceRegistration {
  readonly definition = serviceDefinitions().health;
  readonly handlers: HealthHandlers;
  readonly #health: NodeHealth;
  readonly #services: () => readonly string[];
  readonly #watches = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  constructor(health: NodeHealth, services: () => readonly string[]) {
    this.#health = health;
    this.#services = services;
    this.handlers = {
      Check: (call, callback) => {
        const status = this.#statusOf(call.request.service);
        if (status === 'SERVICE_UNKNOWN') {
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
          return;
        }
        callback(null, { status });
      },
      Watch: (call) => this.#watch(call),
    };
  }

  /** Ends every open Watch call (OK status): the server is stopping. */
  close(): Promise<void> {
    for (const call of [...this.#watches]) call.end();
    this.#watches.clear();
    return Promise.resolve();
  }

  #statusOf(service: string): ServingStatus {
    const known = service === '' || service === HEALTH_SERVICE_NAME || this.#services().includes(service);
    return known ? servingStatusOf(this.#health.state) : 'SERVICE_UNKNOWN';
  }

  #watch(call: grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>): void {
    const service = call.request.service;
    let last = this.#statusOf(service);
    call.write({ status: last });
    const untyped = call as grpc.ServerWritableStream<unknown, unknown>;
    this.#watches.add(untyped);
    const off = this.#health.onChange(() => {
      const next = this.#statusOf(service);
      if (next === last) return;
      last = next;
      // Status frames are tiny and rare; a client slow enough to fill the buffer only delays them.
      call.write({ status: next });
    });
    const stop = (): void => {
      off();
      this.#watches.delete(untyped);
    };
    call.once('cancelled', stop);
    call.once('close', stop);
    call.once('finish', stop);
  }
}

/** Names of the services in `registrations` (for {@link HealthService}). */
export function serviceNames(registrations: readonly ServiceRegistration[]): string[] {
  return registrations.map((r) => serviceNameOf(r.definition));
}
