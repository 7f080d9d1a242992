/**
 * The coordinator's gRPC services across leadership changes. A grpc-js server takes its services
 * once, before it serves, but a coordinator's handlers change: a standby answers every call with
 * the standby error, and each term as active has its own channel manager, balancer and discovery
 * server (a closed `AssignmentDiscoverServer` refuses new streams for good). So the services are
 * registered once as thin routers that forward every call to the current {@link ServiceTable}:
 * the serving term's, or the standby one.
 *
 * A table is what `registerCoordinatorServices` builds, recorded by a server that is never bound,
 * so the handlers, their gate and their conversions stay in one place (coord/service).
 */
import * as grpc from '@grpc/grpc-js';
import { NEVER } from 'rxjs';
import { serviceDefinitions } from '../shared/index.js';
import type { Logger } from '../shared/index.js';
import {
  type ActiveCoordinatorProvider,
  type CoordinatorRoleProvider,
  type CoordinatorServices,
  type CoordinatorServicesDeps,
  notActiveError,
  registerCoordinatorServices,
} from './service/index.js';

/** The handlers of the four coordinator services, as one `registerCoordinatorServices` call built them. */
export interface ServiceTable {
  readonly services: CoordinatorServices;
  readonly handlers: ReadonlyMap<grpc.ServiceDefinition, grpc.UntypedServiceImplementation>;
}

/** A grpc-js server that only records `addService` calls; it is never bound. */
class RecordingServer extends grpc.Server {
  readonly recorded = new Map<grpc.ServiceDefinition, grpc.UntypedServiceImplementation>();

  constructor() {
    // No channelz entry for a server that never serves (it would never be unregistered).
    super({ 'grpc.enable_channelz': 0 });
  }

  override addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.recorded.set(service, implementation);
  }
}

/** Builds one table of coordinator handlers over `deps`. */
export function buildServiceTable(deps: CoordinatorServicesDeps): ServiceTable {
  const recorder = new RecordingServer();
  const services = registerCoordinatorServices(recorder, deps);
  return { services, handlers: recorder.recorded };
}

/** Definitions of the services a coordinator serves (what `registerCoordinatorServices` adds). */
function coordinatorDefinitions(): grpc.ServiceDefinition[] {
  const defs = serviceDefinitions();
  return [defs.streamingCoordAssignment, defs.streamingCoordBroadcast, defs.tso, defs.walAdmin];
}

/**
 * The standby table: every call fails with the standby error (gate with `active: false`), except
 * `GetActiveCoordinator`, which names the active coordinator. The components behind it are never
 * reached; they refuse like the gate, in case a call gets past it.
 */
export function buildStandbyTable(activeCoordinator: ActiveCoordinatorProvider, role: CoordinatorRoleProvider, logger?: Logger): ServiceTable {
  const refuse = (): never => {
    throw notActiveError(role());
  };
  return buildServiceTable({
    channels: { snapshots$: NEVER, streamingVersion: 0n, snapshot: refuse, currentAssignments: refuse },
    registry: { views$: NEVER, current: refuse },
    balancer: { reportError: refuse, updateBalancePolicy: refuse, triggerBalance: refuse, balancePolicy: refuse },
    vchannels: { allocate: refuse, drop: refuse, list: refuse },
    tso: { allocate: refuse },
    activeCoordinator,
    role: () => ({ ...role(), active: false }),
    ...(logger === undefined ? {} : { logger }),
  });
}

type AnyHandler = (call: unknown, callback?: unknown) => void;

/** Forwards every coordinator call to the table in service right now; see the module comment. */
export class CoordinatorServiceRouter {
  readonly #standby: ServiceTable;
  #serving: ServiceTable | undefined;

  constructor(standby: ServiceTable) {
    this.#standby = standby;
  }

  /** The table of the serving term, if any. */
  get serving(): ServiceTable | undefined {
    return this.#serving;
  }

  /** The standby table (its discovery server must be closed on shutdown). */
  get standby(): ServiceTable {
    return this.#standby;
  }

  /**
   * Adds the four services to `server` (once, before it serves).
   * @throws Error when the standby table lacks a method (a programmer error, caught at start-up).
   */
  install(server: grpc.Server): void {
    for (const definition of coordinatorDefinitions()) {
      const routed: grpc.UntypedServiceImplementation = {};
      for (const [method, attrs] of Object.entries(definition)) {
        const lookup = (table: ServiceTable): AnyHandler | undefined => {
          const handlers = table.handlers.get(definition);
          // grpc-js accepts handlers under the proto name or the camelCase `originalName`.
          return (handlers?.[method] ?? (attrs.originalName === undefined ? undefined : handlers?.[attrs.originalName])) as AnyHandler | undefined;
        };
        const standby = lookup(this.#standby);
        if (standby === undefined) throw new Error(`coordinator service router: no standby handler for ${method}`);
        const forward: AnyHandler = (call, callback) => {
          const handler = this.#serving === undefined ? standby : (lookup(this.#serving) ?? standby);
          handler(call, callback);
        };
        routed[method] = forward as unknown as grpc.UntypedHandleCall;
      }
      server.addService(definition, routed);
    }
  }

  /** Routes new calls to `table` (calls already running stay where they are). */
  serve(table: ServiceTable): void {
    this.#serving = table;
  }

  /** Routes new calls to the standby table again; returns the table that was serving. */
  unserve(): ServiceTable | undefined {
    const previous = this.#serving;
    this.#serving = undefined;
    return previous;
  }
}
