/**
 * The streaming node's registration in the meta store (Milvus `sessionutil` as a streaming node
 * uses it), around the shared {@link Session}:
 *
 * - **Registered only once serving**: the server calls {@link NodeSession.start} after its gRPC
 *   port is bound, so a node is reachable before it is discoverable (Milvus registers last).
 *   Registration retries with backoff while the store is unreachable.
 * - **Graceful stop**: {@link NodeSession.markStopping} rewrites the session with `Stopping: true`
 *   (the coordinator drains the node), then {@link NodeSession.close} revokes the lease.
 * - **Self-fence**: when the session reports itself lost (no successful keepalive for TTL −
 *   margin), `hooks.onLost` runs at once — the server closes every WAL there, before another node
 *   can be given its pchannels — and the old lease is revoked (best effort). Then, by policy:
 *   `reregister` (default) registers again, with a **new** server id, once the store answers
 *   (the coordinator sees a new node and assigns it fresh terms); `exit` gives up and calls
 *   `hooks.onGiveUp`, for deployments that prefer a supervisor restart.
 */
import {
  Backoff,
  type BackoffOptions,
  Deferred,
  type Logger,
  type MetaKV,
  type Metrics,
  STREAMING_NODE_ROLE,
  Session,
  type SessionConfig,
  type SessionMetricState,
  StreamingError,
  anySignal,
  asStreamingError,
  noopLogger,
  raceAbort,
  retry,
} from '../../shared/index.js';

/** What a node does after its session was lost and its WALs were closed. */
export type SessionLossPolicy = 'reregister' | 'exit';

/** Where a node's registration is. */
export type NodeSessionState = 'idle' | 'registering' | 'alive' | 'fenced' | 'stopping' | 'closed';

/** Callbacks into the node server. */
export interface NodeSessionHooks {
  /** The session was lost: stop all exclusive work now (close every WAL). Errors are logged. */
  onLost(reason: StreamingError): Promise<void>;
  /** Called once before registering again after a loss: get ready to serve under a new id. */
  beforeReregister?(): void | Promise<void>;
  /** Registered, the first time or again with a new server id. */
  onRegistered?(serverId: bigint): void;
  /** The session is gone for good (policy `exit`, or re-registration failed): the node should stop. */
  onGiveUp?(reason: StreamingError): void;
}

/** Options of {@link NodeSession}. */
export interface NodeSessionOptions {
  readonly kv: MetaKV;
  /** Meta root, e.g. `by-dev/meta`. */
  readonly rootPath: string;
  /** `host:port` the node serves at (published in the session). */
  readonly address: string;
  readonly session: SessionConfig;
  /** Default `reregister`. */
  readonly onLost?: SessionLossPolicy;
  readonly hooks: NodeSessionHooks;
  /** Session version (Milvus semver); default the Session's. */
  readonly version?: string;
  /** Delays between registration attempts; default 100 ms doubling to 2 s. */
  readonly registerBackoff?: Partial<BackoffOptions>;
  readonly metrics?: Pick<Metrics, 'setSessionState'>;
  readonly logger?: Logger;
}

/** See the file comment. */
export class NodeSession {
  readonly #opts: NodeSessionOptions;
  readonly #log: Logger;
  /** Aborted by close() (and by markStopping() while no session is live): ends registration attempts. */
  readonly #stop = new AbortController();
  #state: NodeSessionState = 'idle';
  #session: Session | undefined;
  #recovering: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #closed = new Deferred<void>();

  constructor(options: NodeSessionOptions) {
    this.#opts = options;
    this.#log = (options.logger ?? noopLogger).child({ component: 'node-session' });
  }

  get state(): NodeSessionState {
    return this.#state;
  }

  /** The server id of the live session; undefined before the first registration and while fenced. */
  get serverId(): bigint | undefined {
    return this.#session?.serverId;
  }

  /** The live session (tests pause its keepalive through it). */
  get session(): Session | undefined {
    return this.#session;
  }

  /**
   * Registers the session and resolves with its server id. Retries while the store is
   * unreachable; rejects with the abort reason of `signal`, or ON_SHUTDOWN after close().
   */
  async start(signal?: AbortSignal): Promise<bigint> {
    if (this.#state !== 'idle') throw StreamingError.onShutdown(`node session cannot start: it is ${this.#state}`);
    this.#state = 'registering';
    const session = await this.#register(signal);
    return this.#adopt(session);
  }

  /** Publishes `Stopping: true` (graceful shutdown) and stops re-registering. */
  async markStopping(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'closed') return;
    const live = this.#state === 'alive';
    this.#state = 'stopping';
    this.#opts.metrics?.setSessionState(STREAMING_NODE_ROLE, 'stopping');
    if (!live) {
      this.#stop.abort(StreamingError.onShutdown('node session is stopping'));
      return;
    }
    await this.#session?.markStopping();
  }

  /** Stops re-registering and revokes the lease (the session key disappears). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  /** Resolves once closed (the lease revoked, or its revoke failed); never rejects. */
  closed(): Promise<void> {
    return this.#closed.promise;
  }

  async #doClose(): Promise<void> {
    this.#state = 'closed';
    this.#stop.abort(StreamingError.onShutdown('node session is closed'));
    await this.#recovering;
    const session = this.#session;
    this.#session = undefined;
    try {
      await session?.close();
    } finally {
      this.#setMetric('closed');
      this.#closed.resolve();
    }
  }

  #adopt(session: Session): bigint {
    this.#session = session;
    this.#state = 'alive';
    this.#setMetric('alive');
    this.#log.info({ serverId: session.serverId, key: session.key }, 'node session registered');
    this.#opts.hooks.onRegistered?.(session.serverId);
    void session.done().then((reason) => {
      // Our own close() or stop ends the session too; only an unexpected end is a loss.
      if (this.#session === session && this.#state === 'alive') this.#recovering = this.#recover(session, reason);
    });
    return session.serverId;
  }

  /** Fence, revoke, then re-register or give up (see the file comment). */
  async #recover(lost: Session, reason: StreamingError): Promise<void> {
    this.#state = 'fenced';
    this.#setMetric('lost');
    this.#log.error({ serverId: lost.serverId, err: reason.message }, 'node session lost; closing every WAL');
    await this.#opts.hooks.onLost(reason).catch((e: unknown) => this.#log.error({ err: e }, 'closing WALs after session loss failed'));
    this.#session = undefined;
    // Best effort: if the lease is still alive (a stall, not an expiry), watchers see us leave now.
    await lost.close().catch((e: unknown) => this.#log.warn({ err: e }, 'revoking the lost session failed'));
    if (this.#state !== 'fenced') return; // stopping or closed meanwhile
    if ((this.#opts.onLost ?? 'reregister') === 'exit') return this.#giveUp(reason);
    try {
      this.#state = 'registering';
      await this.#opts.hooks.beforeReregister?.();
      const session = await this.#register();
      if (this.#state !== 'registering') {
        await session.close().catch(() => undefined);
        return;
      }
      this.#adopt(session);
    } catch (error) {
      if (this.#stop.signal.aborted) return;
      this.#giveUp(asStreamingError(error));
    }
  }

  #giveUp(reason: StreamingError): void {
    this.#log.error({ err: reason.message }, 'node session gone for good');
    this.#opts.hooks.onGiveUp?.(reason);
  }

  /** Session.register with retries; an attempt still running when we stop is closed when it lands. */
  async #register(signal?: AbortSignal): Promise<Session> {
    const combined = anySignal([this.#stop.signal, signal]);
    const { kv, rootPath, address, session: cfg, version, logger } = this.#opts;
    try {
      return await retry(
        () => {
          const attempt = Session.register({
            kv,
            rootPath,
            role: STREAMING_NODE_ROLE,
            address,
            ttlMs: cfg.ttlMs,
            keepaliveIntervalMs: cfg.keepaliveIntervalMs,
            selfFenceMarginMs: cfg.selfFenceMarginMs,
            ...(version !== undefined ? { version } : {}),
            ...(logger !== undefined ? { logger } : {}),
          });
          return raceAbort(attempt, combined.signal).catch((error: unknown) => {
            if (combined.signal.aborted) void attempt.then((s) => s.close()).catch(() => undefined);
            throw error;
          });
        },
        {
          signal: combined.signal,
          backoff: new Backoff({ initialMs: 100, maxMs: 2_000, ...this.#opts.registerBackoff }),
          // A bad argument (TTL) will not get better by retrying.
          retryIf: (error) => !asStreamingError(error).isInvalidArgument(),
          onRetry: (error, attempt, delayMs) =>
            this.#log.warn({ err: asStreamingError(error).message, attempt, delayMs }, 'session registration failed; retrying'),
        },
      );
    } finally {
      combined.dispose();
    }
  }

  #setMetric(state: SessionMetricState): void {
    this.#opts.metrics?.setSessionState(STREAMING_NODE_ROLE, state);
  }
}
