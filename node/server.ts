/**
 * The streaming node's composition root (DESIGN.md §6, STYLE §5): every component from a frozen
 * Config plus injected dependencies, started in Milvus's order and closed in reverse.
 *
 * Start: open the meta store → bind gRPC (port 0 = any) → register the session (so the node is
 * reachable before it is discoverable) → create the WAL manager under the new server id → serving.
 *
 * Close (idempotent): mark not-ready (health NOT_SERVING, state Stopping, session `Stopping: true`)
 * → gRPC `tryShutdown`, streams ended with ON_SHUTDOWN, `forceShutdown` after
 * `shutdownTimeoutMs` → WALs close → WAL backend close → TSO close → session revoke → meta store
 * close. Every step runs even if an earlier one failed; `close()` then rejects with an
 * `AggregateError` of the failures.
 *
 * Self-fence: when the session is lost, the WAL manager is closed at once (every WAL, pending
 * opens included) and, under the default policy, a fresh manager serves again under a new server
 * id once the meta store answers (see node/session).
 */
import type * as grpc from '@grpc/grpc-js';
import {
  type Config,
  Deferred,
  type Logger,
  type MetaStoreSpec,
  type Metrics,
  type OpenedMetaStore,
  Registry,
  STREAMING_NODE_ROLE,
  StreamingError,
  type TsoAllocator,
  bindGrpcServer,
  createMetrics,
  noopLogger,
  openMetaStore,
  shutdownGrpcServer,
  throwIfAborted,
} from '../shared/index.js';
import {
  HealthService,
  ManagerService,
  NodeHealth,
  type ServiceRegistration,
  createGrpcServer,
  serviceNames,
  stateServiceRegistration,
  HandlerService,
} from './service/index.js';
import { NodeSession, type SessionLossPolicy } from './session/index.js';
import type { Wal } from './wal/index.js';
import { WalManager, type WalOpener } from './wal-manager/index.js';
import {
  type NodeTso,
  type NodeWalProvider,
  abortableTso,
  advertisedAddress,
  createDefaultWalProvider,
  createNodeTso,
} from './server-resources.js';

/** What extra services are built with. */
export interface NodeServiceContext {
  readonly config: Config;
  /** The WAL manager serving now; throws ON_SHUTDOWN while there is none (starting, fenced, closed). */
  readonly walManager: () => WalManager<Wal>;
  readonly health: NodeHealth;
  /** Aborted (ON_SHUTDOWN) when the node begins closing. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** An extra gRPC service: a registration, or a factory given the node's context. */
export type NodeServiceFactory = ServiceRegistration | ((context: NodeServiceContext) => ServiceRegistration);

/** Options of {@link NodeServer}. */
export interface NodeServerOptions {
  /** Loaded once and frozen (`loadConfig`). */
  readonly config: Config;
  /** The WALs: a provider, or one opener used for every registration. Default: LevelDB WALs under `node.dataRoot`. */
  readonly wal?: NodeWalProvider | WalOpener<Wal>;
  /** Default `{ kind: 'etcd' }` (config.etcd). */
  readonly metaStore?: MetaStoreSpec;
  /** A timestamp source the caller owns (standalone). Default: see `coordAddress`. */
  readonly tso?: TsoAllocator;
  /**
   * The coordinator's address for the TSO (the active coordinator may move: it is read before
   * each RPC). Default `config.coord.advertise` when set; with neither, a local clock TSO.
   */
  readonly coordAddress?: () => string | undefined;
  /** Further services (the handler service for Produce / Consume is built in). */
  readonly services?: readonly NodeServiceFactory[];
  /** After a self-fence: register again with a new server id (default) or close the node. */
  readonly onSessionLost?: SessionLossPolicy;
  /** How long a graceful gRPC shutdown may take before calls are cancelled; default 5000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** Session version (Milvus semver) published for discovery; default the Session's. */
  readonly sessionVersion?: string;
  readonly logger?: Logger;
  /** Per-instance metrics registry; default a new one. */
  readonly registry?: Registry;
}

/** What `start()` resolves with (and the ready line prints). */
export interface NodeServerInfo {
  readonly grpcPort: number;
  /** The advertised `host:port` published in the session. */
  readonly address: string;
  readonly serverId: bigint;
}

type Status = 'created' | 'starting' | 'running' | 'closing' | 'closed';

/** See the file comment. */
export class NodeServer {
  readonly config: Config;
  readonly health = new NodeHealth();
  readonly metrics: Metrics;
  readonly #opts: NodeServerOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #tso: NodeTso;
  readonly #wal: NodeWalProvider;
  readonly #registrations: ServiceRegistration[];
  readonly #grpc: grpc.Server;
  #status: Status = 'created';
  #meta: OpenedMetaStore | undefined;
  #session: NodeSession | undefined;
  #walManager: WalManager<Wal> | undefined;
  /** Aborted when the current WAL manager's WALs must stop waiting for timestamps. */
  #generation: AbortController | undefined;
  /** The WAL manager close of the last self-fence, if any. */
  #fencing: Promise<void> | undefined;
  #starting: Promise<NodeServerInfo> | undefined;
  #closing: Promise<void> | undefined;
  readonly #closed = new Deferred<void | Error>();

  constructor(options: NodeServerOptions) {
    this.#opts = options;
    this.config = options.config;
    const root = options.logger ?? noopLogger;
    this.#log = root.child({ component: 'node-server' });
    this.metrics = createMetrics(options.registry ?? new Registry());
    const coordAddress = options.coordAddress ?? (this.config.coord.advertise !== '' ? () => this.config.coord.advertise : undefined);
    this.#tso = options.tso !== undefined ? { tso: options.tso, close: () => Promise.resolve() } : createNodeTso(coordAddress, root);
    const wal = options.wal ?? createDefaultWalProvider(this.config, root);
    this.#wal = 'open' in wal ? { opener: () => wal } : wal;
    const walManager = (): WalManager<Wal> => this.walManager();
    const signal = this.#stop.signal;
    const context: NodeServiceContext = { config: this.config, walManager, health: this.health, signal, logger: root, metrics: this.metrics };
    // Assign only while serving; Remove / CollectStatus also while draining (see ManagerService).
    const manager = new ManagerService({ wals: walManager, assignable: () => this.health.isServing(), signal, logger: root });
    // Produce / Consume: built in, every node serves them.
    const handler = new HandlerService({
      walManager,
      serverId: () => this.serverId,
      limits: { maxMessageBytes: this.config.wal.maxMessageBytes },
      logger: root,
    });
    const base: ServiceRegistration[] = [manager, stateServiceRegistration(this.health), handler];
    const extra = (options.services ?? []).map((s) => (typeof s === 'function' ? s(context) : s));
    const names = serviceNames([...base, ...extra]);
    this.#registrations = [...base, ...extra, new HealthService(this.health, () => names)];
    this.#grpc = createGrpcServer(this.#registrations);
  }

  /** The current session's server id; undefined before registration and while fenced. */
  get serverId(): bigint | undefined {
    return this.#session?.serverId;
  }

  /** The node's session (tests reach the live Session through it to pause keepalives). */
  get session(): NodeSession | undefined {
    return this.#session;
  }

  /** The node's timestamp source. */
  get tso(): TsoAllocator {
    return this.#tso.tso;
  }

  /**
   * The WAL manager serving now.
   * @throws StreamingError ON_SHUTDOWN before the first registration, while fenced, and once its WALs are closed.
   */
  walManager(): WalManager<Wal> {
    const manager = this.#walManager;
    if (manager === undefined) throw StreamingError.onShutdown(`streaming node has no WALs now (${this.#status === 'running' ? 'fenced' : this.#status})`);
    return manager;
  }

  /** Binds, registers, serves; see the file comment. On failure everything started is closed. */
  start(): Promise<NodeServerInfo> {
    if (this.#status !== 'created') return Promise.reject(StreamingError.onShutdown(`node server cannot start: it is ${this.#status}`));
    this.#status = 'starting';
    this.#starting = this.#doStart();
    return this.#starting.catch(async (error: unknown) => {
      await this.close(error instanceof Error ? error : new Error(String(error))).catch(() => undefined);
      throw error;
    });
  }

  /** Graceful stop in the order of the file comment. Idempotent. */
  close(reason?: Error): Promise<void> {
    this.#closing ??= this.#doClose(reason);
    return this.#closing;
  }

  /** Resolves once closed: with the `close()` reason (e.g. the session was lost for good), else a teardown failure, else undefined. Never rejects. */
  closed(): Promise<void | Error> {
    return this.#closed.promise;
  }

  async #doStart(): Promise<NodeServerInfo> {
    const { node, etcd, session } = this.config;
    this.#meta = await openMetaStore(this.#opts.metaStore ?? { kind: 'etcd' }, this.config.etcd);
    throwIfAborted(this.#stop.signal);
    const grpcPort = await bindGrpcServer(this.#grpc, node.host, node.port, "the node's gRPC server");
    throwIfAborted(this.#stop.signal);
    const address = advertisedAddress(node, grpcPort);
    this.#session = new NodeSession({
      kv: this.#meta.kv,
      rootPath: etcd.rootPath,
      address,
      session,
      onLost: this.#opts.onSessionLost ?? 'reregister',
      ...(this.#opts.sessionVersion !== undefined ? { version: this.#opts.sessionVersion } : {}),
      metrics: this.metrics,
      logger: this.#opts.logger ?? noopLogger,
      hooks: {
        onRegistered: (serverId) => this.#serveAs(serverId),
        onLost: (reason) => this.#fence(reason),
        onGiveUp: (reason) => void this.close(reason).catch(() => undefined),
      },
    });
    const serverId = await this.#session.start(this.#stop.signal);
    this.#status = 'running';
    this.#log.info({ grpcPort, address, serverId }, 'streaming node serving');
    return { grpcPort, address, serverId };
  }

  /** Registered (again): a fresh WAL manager under this server id, then healthy. */
  #serveAs(serverId: bigint): void {
    if (this.#stop.signal.aborted) return;
    const logger = (this.#opts.logger ?? noopLogger).child({ serverId });
    this.#generation = new AbortController();
    const tso = abortableTso(this.#tso.tso, this.#generation.signal);
    this.#walManager = new WalManager<Wal>({ opener: this.#wal.opener({ nodeId: serverId, tso, logger }), logger });
    this.health.setServerId(serverId);
    const version = this.#session?.session?.info.version ?? '';
    this.metrics.processInfo.reset(); // a re-registration replaces the old node id
    this.metrics.processInfo.set({ service: STREAMING_NODE_ROLE, version, node_id: serverId.toString() }, 1);
    this.health.setState('healthy');
  }

  /** Self-fence: stop serving and close every WAL (pending opens included) right now. */
  #fence(reason: StreamingError): Promise<void> {
    this.health.setState('initializing');
    const manager = this.#walManager;
    this.#walManager = undefined;
    this.#generation?.abort(reason);
    // Remembered so close() waits for these WALs before it closes the backend under them.
    this.#fencing = manager?.close(reason) ?? Promise.resolve();
    return this.#fencing;
  }

  async #doClose(reason: Error | undefined): Promise<void> {
    const wasRunning = this.#status !== 'created';
    this.#status = 'closing';
    this.health.setState('stopping');
    this.#stop.abort(StreamingError.onShutdown('streaming node is stopping'));
    this.#log.info({ reason: reason?.message }, 'streaming node stopping');
    const errors: unknown[] = [];
    const step = async (name: string, fn: () => Promise<unknown> | undefined): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        this.#log.error({ err: error, step: name }, 'shutdown step failed');
        errors.push(error);
      }
    };
    await this.#starting?.catch(() => undefined);
    await step('mark session stopping', () => this.#session?.markStopping());
    if (wasRunning) await step('grpc shutdown', () => this.#shutdownGrpc());
    await step('close WALs', async () => {
      const manager = this.#walManager;
      this.#walManager = undefined;
      this.#generation?.abort(StreamingError.onShutdown('streaming node is stopping'));
      await Promise.all([manager?.close(), this.#fencing?.catch(() => undefined)]);
    });
    await step('close WAL backend', () => this.#wal.close?.());
    await step('close TSO', () => this.#tso.close());
    await step('revoke session', () => this.#session?.close());
    await step('close meta store', () => (this.#meta?.owned === true ? this.#meta.kv.close() : undefined));
    this.#status = 'closed';
    const failure = errors.length > 0 ? new AggregateError(errors, `streaming node: ${errors.length} shutdown step(s) failed`) : undefined;
    this.#log.info({ failed: errors.length }, 'streaming node stopped');
    this.#closed.resolve(reason ?? failure);
    if (failure) throw failure;
  }

  /** tryShutdown, end long-lived calls with ON_SHUTDOWN, force after the timeout. */
  async #shutdownGrpc(): Promise<void> {
    const shutdown = shutdownGrpcServer(this.#grpc, this.#opts.shutdownTimeoutMs ?? 5_000);
    const reason = StreamingError.onShutdown('streaming node is stopping');
    await Promise.allSettled(this.#registrations.map(async (r) => r.close?.(reason)));
    if (!(await shutdown)) this.#log.warn({}, 'gRPC calls still running at the shutdown timeout were cancelled');
  }
}
