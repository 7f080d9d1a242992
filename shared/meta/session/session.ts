import { hostname } from 'node:os';
import type { MetaKV } from '../meta-kv.js';
import { StreamingError, asStreamingError } from '../../errors/index.js';
import { noopLogger, type Logger } from '../../log/index.js';
import { allocateServerId } from './server-id.js';
import { encodeSessionInfo, type SessionInfo } from './session-info.js';
import { sessionKey } from './session-keys.js';

/** Options of {@link Session.register}. Durations in ms. */
export interface SessionOptions {
  readonly kv: MetaKV;
  /** Meta root, e.g. `by-dev/meta`. */
  readonly rootPath: string;
  /** e.g. `streamingnode`. */
  readonly role: string;
  /** `host:port` others reach this process at. */
  readonly address: string;
  /** Lease TTL (≥ 2000; etcd rounds up to whole seconds). */
  readonly ttlMs: number;
  /** How often the lease is renewed. Default: a third of the TTL. */
  readonly keepaliveIntervalMs?: number;
  /**
   * The session reports itself lost once no keepalive has succeeded for `ttl − margin`, counted
   * from when the last successful keepalive was *sent* (so the lease surely outlives our belief).
   * Default: a fifth of the TTL, at least 500 ms.
   */
  readonly selfFenceMarginMs?: number;
  readonly version?: string;
  /** Clock for the self-fence deadline (tests). Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

export type SessionState = 'alive' | 'stopping' | 'lost' | 'closed';

/**
 * A process's registration in the meta store: a server id, a lease, and a key under the lease
 * that others watch. It keeps the lease alive itself and **fences itself**: when renewal has not
 * succeeded for TTL minus a margin it turns `lost` and aborts {@link Session.signal} at once, well
 * before etcd (or the etcd3 client, which notices only after 2 × TTL) would say so. Whoever does
 * exclusive work under the session (a node's WALs) must stop when the signal aborts.
 *
 * @example
 * ```ts
 * const session = await Session.register({ kv, rootPath: 'by-dev/meta', role: 'streamingnode', address, ttlMs: 10_000 });
 * session.signal.addEventListener('abort', () => closeAllWals(session.signal.reason));
 * // … on shutdown:
 * await session.markStopping();
 * await session.close();
 * ```
 */
export class Session {
  readonly serverId: bigint;
  readonly key: string;
  readonly leaseId: string;
  readonly ttlMs: number;
  #state: SessionState = 'alive';
  readonly #opts: SessionOptions;
  readonly #abort = new AbortController();
  readonly #intervalMs: number;
  readonly #marginMs: number;
  readonly #now: () => number;
  #fenceDeadline: number;
  #fenceTimer: NodeJS.Timeout | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #keepalivePaused = false;
  #closePromise: Promise<void> | undefined;
  #info: SessionInfo;
  readonly #log: Logger;

  private constructor(opts: SessionOptions, serverId: bigint, leaseId: string, ttlMs: number, grantSentAt: number) {
    this.#opts = opts;
    this.serverId = serverId;
    this.leaseId = leaseId;
    this.ttlMs = ttlMs;
    this.key = sessionKey(opts.rootPath, opts.role, serverId);
    this.#intervalMs = opts.keepaliveIntervalMs ?? Math.max(100, Math.floor(ttlMs / 3));
    this.#marginMs = opts.selfFenceMarginMs ?? Math.max(500, Math.floor(ttlMs / 5));
    this.#now = opts.now ?? Date.now;
    this.#fenceDeadline = grantSentAt + ttlMs - this.#marginMs;
    this.#log = (opts.logger ?? noopLogger).child({ component: 'session', role: opts.role, serverId });
    this.#info = {
      serverId,
      role: opts.role,
      address: opts.address,
      stopping: false,
      version: opts.version ?? '2.6.0',
      leaseId,
      hostName: hostname(),
    };
  }

  /** Allocates a server id, grants a lease and creates the session key (which must not exist yet). */
  static async register(opts: SessionOptions): Promise<Session> {
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 2000) {
      throw StreamingError.invalidArgument('session.ttlMs', `must be ≥ 2000, got ${opts.ttlMs}`);
    }
    const now = opts.now ?? Date.now;
    const serverId = await allocateServerId(opts.kv, opts.rootPath);
    const sentAt = now();
    const lease = await opts.kv.leaseGrant(opts.ttlMs);
    const session = new Session(opts, serverId, lease.id, Math.min(lease.ttlMs, opts.ttlMs), sentAt);
    try {
      const r = await opts.kv.txn({
        compares: [{ key: session.key, target: 'version', op: '==', value: 0 }],
        success: [{ type: 'put', key: session.key, value: encodeSessionInfo(session.#info), lease: lease.id }],
      });
      if (!r.succeeded) throw StreamingError.inner(`session key ${session.key} already exists`);
    } catch (e) {
      await opts.kv.leaseRevoke(lease.id).catch(() => undefined);
      throw e;
    }
    session.#armFence();
    session.#scheduleKeepalive();
    session.#log.info({ key: session.key, leaseId: lease.id, ttlMs: session.ttlMs }, 'session registered');
    return session;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The published session info. */
  get info(): SessionInfo {
    return this.#info;
  }

  /** Aborted (with a StreamingError reason) when the session is lost or closed. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Resolves with the reason once the session is lost or closed; never rejects. */
  done(): Promise<StreamingError> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve(asStreamingError(signal.reason));
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(asStreamingError(signal.reason)), { once: true }));
  }

  /** Rewrites the session with `Stopping: true` (graceful shutdown: watchers drain this process). */
  async markStopping(): Promise<void> {
    if (this.#state !== 'alive') return;
    this.#info = { ...this.#info, stopping: true };
    this.#state = 'stopping';
    const r = await this.#opts.kv.txn({
      compares: [{ key: this.key, target: 'lease', op: '==', value: this.leaseId }],
      success: [{ type: 'put', key: this.key, value: encodeSessionInfo(this.#info), lease: this.leaseId }],
    });
    if (!r.succeeded) throw StreamingError.inner(`session key ${this.key} is gone; cannot mark it stopping`);
  }

  /**
   * Test hook: stops renewing the lease without closing, as if keepalives were being lost. The
   * session then fences itself on its own timer.
   */
  pauseKeepaliveForTesting(): void {
    this.#keepalivePaused = true;
  }

  /** Stops keepalives and revokes the lease, deleting the session key. Idempotent. */
  close(): Promise<void> {
    this.#closePromise ??= this.#doClose();
    return this.#closePromise;
  }

  async #doClose(): Promise<void> {
    const wasLost = this.#state === 'lost';
    this.#state = 'closed';
    this.#stopTimers();
    if (!this.#abort.signal.aborted) this.#abort.abort(StreamingError.onShutdown(`session ${this.key} closed`));
    // A lost session's lease may still be alive in etcd (a stall, not an expiry): revoking it
    // lets watchers see the departure now instead of after the TTL. Best effort either way.
    await this.#opts.kv.leaseRevoke(this.leaseId).catch((e: unknown) => {
      if (!wasLost) throw StreamingError.inner(`revoking session lease ${this.leaseId} failed`, e);
    });
  }

  #stopTimers(): void {
    clearTimeout(this.#fenceTimer);
    clearTimeout(this.#keepaliveTimer);
    this.#fenceTimer = undefined;
    this.#keepaliveTimer = undefined;
  }

  #armFence(): void {
    clearTimeout(this.#fenceTimer);
    const delay = Math.max(0, this.#fenceDeadline - this.#now());
    this.#fenceTimer = setTimeout(() => this.#onFenceTimer(), delay);
    this.#fenceTimer.unref?.();
  }

  #onFenceTimer(): void {
    if (this.#state === 'lost' || this.#state === 'closed') return;
    // A keepalive may have moved the deadline while this timer was queued.
    if (this.#now() < this.#fenceDeadline) return this.#armFence();
    this.#markLost(
      StreamingError.onShutdown(
        `session ${this.key} lost: no successful keepalive for ${this.ttlMs - this.#marginMs} ms (TTL ${this.ttlMs} ms)`,
      ),
    );
  }

  #markLost(reason: StreamingError): void {
    if (this.#state === 'lost' || this.#state === 'closed') return;
    this.#state = 'lost';
    this.#stopTimers();
    this.#log.error({ err: reason.message }, 'session lost; fencing');
    this.#abort.abort(reason);
  }

  #scheduleKeepalive(): void {
    this.#keepaliveTimer = setTimeout(() => void this.#keepaliveOnce(), this.#intervalMs);
    this.#keepaliveTimer.unref?.();
  }

  async #keepaliveOnce(): Promise<void> {
    if (this.#state === 'lost' || this.#state === 'closed') return;
    if (!this.#keepalivePaused) {
      const sentAt = this.#now();
      try {
        const remainingMs = await this.#opts.kv.leaseKeepAliveOnce(this.leaseId);
        // A lease that is gone will not come back: fence now instead of waiting for the timer.
        if (remainingMs <= 0) {
          this.#markLost(StreamingError.onShutdown(`session ${this.key} lost: lease ${this.leaseId} expired`));
          return;
        }
        // The lease lives at least `remaining` from when etcd answered, which is after we sent.
        this.#fenceDeadline = Math.max(this.#fenceDeadline, sentAt + Math.min(remainingMs, this.ttlMs) - this.#marginMs);
        if (this.#state === 'alive' || this.#state === 'stopping') this.#armFence();
      } catch (e) {
        const err = asStreamingError(e);
        // The stores report a lease that is gone (expired or revoked) as UNRECOVERABLE: it will
        // not come back, so fence now instead of waiting for the timer.
        if (err.isUnrecoverable()) {
          this.#markLost(StreamingError.onShutdown(`session ${this.key} lost: ${err.message}`));
          return;
        }
        this.#log.warn({ err: err.message }, 'session keepalive failed; retrying');
        // Transient failure (etcd down or slow): keep trying; the fence timer decides.
      }
    }
    if (this.#state === 'alive' || this.#state === 'stopping') this.#scheduleKeepalive();
  }
}
