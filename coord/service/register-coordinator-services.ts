/**
 * Adds every coordinator gRPC service to a grpc-js server: `StreamingCoordAssignmentService`,
 * `StreamingCoordBroadcastService`, `streamingwal.v1.TsoService` and `streamingwal.v1.WalAdminService`,
 * optionally behind the standby gate (see `standby-gate.ts`). Process wiring (binding, election,
 * shutdown order) belongs to the composition root; this only builds handlers.
 */
import type * as grpc from '@grpc/grpc-js';
import { serviceDefinitions } from '../../shared/index.js';
import type { Logger, TsoAllocator } from '../../shared/index.js';
import type { Balancer } from '../balancer/index.js';
import type { ChannelManager } from '../channel/index.js';
import type { NodeRegistry } from '../discovery/index.js';
import type { VChannelAllocator } from '../vchannel/index.js';
import { type ActiveCoordinatorProvider, adminServiceHandlers } from './admin-server.js';
import { AssignmentDiscoverServer } from './assignment-discover-server.js';
import { assignmentServiceHandlers } from './assignment-service.js';
import { broadcastServiceHandlers } from './broadcast-service.js';
import { type CoordinatorRoleProvider, withStandbyGate } from './standby-gate.js';
import { tsoServiceHandlers } from './tso-server.js';

/** Everything the coordinator services read and call. None of it is owned (closed) by them. */
export interface CoordinatorServicesDeps {
  readonly channels: Pick<ChannelManager, 'snapshots$' | 'streamingVersion' | 'snapshot' | 'currentAssignments'>;
  readonly registry: Pick<NodeRegistry, 'views$' | 'current'>;
  readonly balancer: Pick<Balancer, 'reportError' | 'updateBalancePolicy' | 'triggerBalance' | 'balancePolicy'>;
  readonly vchannels: Pick<VChannelAllocator, 'allocate' | 'drop' | 'list'>;
  readonly tso: TsoAllocator;
  /** Answers `GetActiveCoordinator`. */
  readonly activeCoordinator: ActiveCoordinatorProvider;
  /** Standby gate; absent = always active (standalone mode, tests). */
  readonly role?: CoordinatorRoleProvider;
  /** Largest `AllocateTimestamps.count`; default 2^18. */
  readonly maxTimestampsPerCall?: number;
  readonly logger?: Logger;
}

/** Handles on the registered services. */
export interface CoordinatorServices {
  /** The discovery server: its open streams, and `close()` to end them. */
  readonly discover: AssignmentDiscoverServer;
  /**
   * Ends every open `AssignmentDiscover` stream with ON_SHUTDOWN and refuses new ones (unary calls
   * need nothing: `server.tryShutdown` drains them). Call before shutting the server down, so
   * watchers get a status instead of a cut connection. Idempotent.
   */
  close(reason?: Error): Promise<void>;
}

/**
 * Builds the handlers and adds the four services to `server`.
 *
 * @example
 * ```ts
 * const services = registerCoordinatorServices(server, { channels, registry, balancer, vchannels, tso,
 *   activeCoordinator: () => ({ serverId, address }) });
 * // on shutdown:
 * await services.close();
 * server.tryShutdown(() => undefined);
 * ```
 */
export function registerCoordinatorServices(server: grpc.Server, deps: CoordinatorServicesDeps): CoordinatorServices {
  const defs = serviceDefinitions();
  const discover = new AssignmentDiscoverServer({
    channels: deps.channels,
    registry: deps.registry,
    balancer: deps.balancer,
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  });
  const gate = <H extends grpc.UntypedServiceImplementation>(definition: grpc.ServiceDefinition, handlers: H, exempt?: readonly string[]): H =>
    deps.role === undefined ? handlers : withStandbyGate(definition, handlers, deps.role, exempt);

  server.addService(
    defs.streamingCoordAssignment,
    gate(defs.streamingCoordAssignment, assignmentServiceHandlers({ discover, balancer: deps.balancer })),
  );
  server.addService(defs.streamingCoordBroadcast, gate(defs.streamingCoordBroadcast, broadcastServiceHandlers()));
  server.addService(
    defs.tso,
    gate(defs.tso, tsoServiceHandlers({ tso: deps.tso, ...(deps.maxTimestampsPerCall === undefined ? {} : { maxCount: deps.maxTimestampsPerCall }) })),
  );
  server.addService(
    defs.walAdmin,
    // ext.proto: GetActiveCoordinator is "answered by any coordinator, active or standby" — it is
    // how a client finds the active one.
    gate(defs.walAdmin, adminServiceHandlers({ ...deps, activeCoordinator: deps.activeCoordinator }), ['GetActiveCoordinator']),
  );
  return { discover, close: (reason) => discover.close(reason) };
}
