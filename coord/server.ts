/**
 * The coordinator's composition root (DESIGN §2, §7; STYLE §5): every component from a frozen
 * Config, started in order and closed in reverse.
 *
 * Start: open the meta store (etcd, or the embedded store in standalone mode) → bind gRPC (port 0
 * = any) with the coordinator services behind the router, every call answered by the standby
 * table (`server-router.ts`) → campaign (`CoordinatorElection`) → if elected, start the first
 * active epoch (`active-epoch.ts`: catalog → TSO → channel manager → node registry → vchannels →
 * balancer) and route calls to it. `start()` resolves once the first campaign is decided and, when
 * active, the epoch serves.
 *
 * Afterwards the election drives the server (`epoch-driver.ts`): winning starts an epoch, losing
 * (self-fence, key lost) routes calls back to the standby table and stops the epoch, which ends
 * its discovery streams. Epochs never overlap.
 *
 * Close (idempotent), STYLE §5 order: stop following the election → calls go to the standby
 * table and open `AssignmentDiscover` streams end with ON_SHUTDOWN → gRPC `tryShutdown`, forced
 * after `shutdownTimeoutMs` → epoch components stop → election closes (lease revoked: a standby
 * takes over at once, and only now, so two actives never overlap) → meta store closes. Every step
 * runs even if an earlier one failed; `close()` then rejects with an AggregateError.
 */
import * as grpc from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import {
  Lifecycle,
  Registry,
  STREAMING_COORD_ROLE,
  bindGrpcServer,
  createMetrics,
  noopLogger,
  shutdownGrpcServer,
  throwIfAborted,
} from '../shared/index.js';
import type { BackoffOptions, Config, Logger, Metrics, OpenedMetaStore } from '../shared/index.js';
import { openMetaStore } from '../shared/index.js';
import type { ActiveEpochComponents, ActiveEpochTuning } from './active-epoch.js';
import { CoordinatorElection, type ElectionState } from './election/index.js';
import { EpochDriver } from './epoch-driver.js';
import type { CoordinatorRole } from './service/index.js';
import { CoordinatorServiceRouter, buildStandbyTable } from './server-router.js';
import type { CoordMetaStoreSpec } from './server-resources.js';

/** Default wait for running calls on close before they are cancelled. */
export const DEFAULT_COORD_SHUTDOWN_TIMEOUT_MS = 5_000;

/** Timings and component options (tests pass short ones; defaults are Milvus's). */
export interface CoordinatorTuning extends ActiveEpochTuning {
  readonly electionRetryBackoff?: Partial<BackoffOptions>;
  /** Pause between failed epoch starts while still elected; default `DEFAULT_EPOCH_RETRY_BACKOFF`. */
  readonly epochRetryBackoff?: Partial<BackoffOptions>;
  /** Default {@link DEFAULT_COORD_SHUTDOWN_TIMEOUT_MS}. */
  readonly shutdownTimeoutMs?: number;
}

/** Options of {@link CoordinatorServer}. */
export interface CoordinatorServerOptions {
  /** Loaded once and frozen (`loadConfig`). */
  readonly config: Config;
  /** Default `{ kind: 'etcd' }` (config.etcd). */
  readonly metaStore?: CoordMetaStoreSpec;
  /** Default: silent. `main.ts` passes the pino root logger. */
  readonly logger?: Logger;
  /** Per-instance metrics registry; default a new one. */
  readonly registry?: Registry;
  readonly tuning?: CoordinatorTuning;
}

/** What `start()` reports (the ready line). */
export interface CoordinatorServerInfo {
  readonly grpcPort: number;
  /** Advertised `host:port`. */
  readonly address: string;
  /** This coordinator's server id now (a standby takes a new one when it takes over). */
  readonly serverId: bigint;
  /** Serving as the active coordinator. */
  readonly active: boolean;
}

/** See the module comment. */
export class CoordinatorServer {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly #o: CoordinatorServerOptions;
  /** Components add their own `component` binding; only this file's lines use `#log`. */
  readonly #root: Logger;
  readonly #log: Logger;
  readonly #life = new Lifecycle({ name: 'coordinator server', onClose: () => this.#teardown() });
  #startStep: Promise<void> | undefined;
  #meta: OpenedMetaStore | undefined;
  #grpc: grpc.Server | undefined;
  #router: CoordinatorServiceRouter | undefined;
  #election: CoordinatorElection | undefined;
  #driver: EpochDriver | undefined;
  #metricsSubscription: Subscription | undefined;
  #port = 0;
  #address = '';

  constructor(options: CoordinatorServerOptions) {
    this.#o = options;
    this.config = options.config;
    this.#root = options.logger ?? noopLogger;
    this.#log = this.#root.child({ component: 'coord-server' });
    this.metrics = createMetrics(options.registry ?? new Registry());
  }

  /** Starts everything (see the module comment). Rejects, having closed, if a step failed. */
  async start(): Promise<CoordinatorServerInfo> {
    await this.#life.start(() => {
      this.#startStep = this.#doStart();
      return this.#startStep;
    });
    return this.info();
  }

  /** Closes everything in STYLE §5 order. Idempotent. */
  close(reason?: Error): Promise<void> {
    return this.#life.close(reason);
  }

  /** Resolves (never rejects) once closed, with the close reason or the teardown failure. */
  closed(): Promise<void | Error> {
    return this.#life.closed();
  }

  /** Ports, ids and role right now. */
  info(): CoordinatorServerInfo {
    return { grpcPort: this.#port, address: this.#address, serverId: this.#election?.serverId ?? 0n, active: this.isActive };
  }

  /** Advertised `host:port` ('' before start). */
  get address(): string {
    return this.#address;
  }

  /** True while an active epoch serves the calls. */
  get isActive(): boolean {
    return this.#driver?.current !== undefined;
  }

  /** The election (undefined before start). */
  get election(): CoordinatorElection | undefined {
    return this.#election;
  }

  /** The serving epoch's components, when active (for tests and diagnostics). */
  activeComponents(): ActiveEpochComponents | undefined {
    return this.#driver?.current?.components;
  }

  async #doStart(): Promise<void> {
    const { config } = this;
    const signal = this.#life.signal;
    this.#meta = await openMetaStore(this.#o.metaStore ?? { kind: 'etcd' }, config.etcd);
    throwIfAborted(signal);
    this.#router = new CoordinatorServiceRouter(buildStandbyTable(() => this.#election?.leader, () => this.#standbyRole(), this.#root));
    this.#grpc = new grpc.Server();
    this.#router.install(this.#grpc);
    this.#port = await bindGrpcServer(this.#grpc, config.coord.host, config.coord.port, "the coordinator's gRPC server");
    this.#address = config.coord.advertise !== '' ? config.coord.advertise : `${config.coord.host}:${this.#port}`;
    throwIfAborted(signal);
    const tuning = this.#o.tuning;
    const election = new CoordinatorElection({
      kv: this.#meta.kv,
      rootPath: config.etcd.rootPath,
      address: this.#address,
      ttlMs: config.session.ttlMs,
      keepaliveIntervalMs: config.session.keepaliveIntervalMs,
      selfFenceMarginMs: config.session.selfFenceMarginMs,
      ...(tuning?.electionRetryBackoff === undefined ? {} : { retryBackoff: tuning.electionRetryBackoff }),
      logger: this.#root,
    });
    this.#election = election;
    this.#metricsSubscription = election.states$.subscribe((state) => this.#updateMetrics(state));
    this.#driver = new EpochDriver({
      kv: this.#meta.kv,
      config,
      election,
      router: this.#router,
      serverSignal: signal,
      starting: () => this.#life.status === 'starting',
      ...(tuning === undefined ? {} : { tuning }),
      ...(tuning?.epochRetryBackoff === undefined ? {} : { retryBackoff: tuning.epochRetryBackoff }),
      logger: this.#root,
    });
    this.#driver.follow();
    await election.start();
    // The first epoch (if elected) is started by then-scheduled changes: `active` in the ready line means serving.
    await this.#driver.settled();
    throwIfAborted(signal);
    if (this.#driver.startError !== undefined) throw this.#driver.startError;
    this.#log.info({ ...this.info() }, 'coordinator started');
  }

  /** The standby table's gate: names the active coordinator, unless it is this one still starting its epoch. */
  #standbyRole(): CoordinatorRole {
    const leader = this.#election?.leader;
    const self = leader !== undefined && leader.serverId === this.#election?.serverId;
    return { active: false, activeAddress: self ? undefined : leader?.address };
  }

  #updateMetrics(state: ElectionState): void {
    if (state.role === 'active' || state.role === 'standby') {
      this.metrics.processInfo.reset();
      this.metrics.processInfo.set({ service: STREAMING_COORD_ROLE, version: '2.6.0', node_id: state.serverId.toString() }, 1);
      this.metrics.setSessionState(STREAMING_COORD_ROLE, 'alive');
    } else if (state.role === 'closed') {
      this.metrics.setSessionState(STREAMING_COORD_ROLE, 'closed');
    }
  }

  async #teardown(): Promise<void> {
    // A start in progress sees the aborted signal at its next step; let it get there first.
    await this.#startStep?.catch(() => undefined);
    const epoch = await this.#driver?.detach();
    const errors: unknown[] = [];
    const step = async (name: string, fn: () => Promise<unknown> | undefined): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        this.#log.error({ step: name, err: String(error) }, 'coordinator shutdown step failed');
        errors.push(error);
      }
    };
    await step('discover streams', () => Promise.all([epoch?.endStreams(), this.#router?.standby.services.close()]));
    const server = this.#grpc;
    const timeoutMs = this.#o.tuning?.shutdownTimeoutMs ?? DEFAULT_COORD_SHUTDOWN_TIMEOUT_MS;
    await step('grpc server', async () => {
      if (server !== undefined && !(await shutdownGrpcServer(server, timeoutMs))) this.#log.warn({ timeoutMs }, 'calls still running at shutdown were cancelled');
    });
    await step('active epoch', () => epoch?.close());
    await step('election', () => this.#election?.close());
    this.#metricsSubscription?.unsubscribe();
    await step('meta store', () => (this.#meta?.owned === true ? this.#meta.kv.close() : undefined));
    this.#log.info({}, 'coordinator closed');
    if (errors.length > 0) throw new AggregateError(errors, `coordinator server: ${errors.length} shutdown step(s) failed`);
  }
}
