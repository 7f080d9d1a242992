/**
 * Active/standby election of streaming coordinators through the meta store (Milvus's active-
 * standby sessions, DESIGN §2): exactly one coordinator holds the lease-backed election key
 * (`election-key.ts`) and serves; the others watch it and take over when it disappears.
 *
 * One attempt, repeated until `close()`:
 * ```
 *   register a fresh Session (new server id, new lease, key <root>/session/streamingcoord-<id>)
 *   txn: if version(<election key>) == 0 then put {serverId, address} under the session lease
 *        else get <election key>
 *   won  → active: watch the key; leadership ends when the key is deleted or rewritten under
 *          another lease, when the session fences itself (no keepalive for TTL − margin, so the
 *          active steps down *before* its lease can expire and a standby can win), or on close
 *   lost → standby: watch the key; when it is deleted, end the attempt
 *   revoke the session (this deletes the election key too if we held it)
 * ```
 * Why a fresh session per attempt: the active coordinator's server id is the `global` part of
 * every assignment version it publishes, and clients accept only newer versions. Ids come from a
 * CAS counter, and a standby allocates its new id only after it saw the previous holder's key
 * deleted, that is after the previous holder allocated its own id: so each new active's id, and
 * with it its versions, is larger than every earlier active's. A standby that kept the id it
 * registered at start-up could be older than the active it replaces.
 *
 * Failures (store unreachable, a session lost while standby) end the attempt; the next one starts
 * after a backoff. Only the very first attempt's failure is reported (by `start()`).
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import {
  Backoff,
  Deferred,
  STREAMING_COORD_ROLE,
  Session,
  StreamingError,
  abortReason,
  abortableSleep,
  anySignal,
  encodeSessionInfo,
  noopLogger,
} from '../../shared/index.js';
import type { BackoffOptions, KeyValue, Logger, MetaKV } from '../../shared/index.js';
import { coordinatorElectionKey, decodeElectionLeader, type ElectionLeader } from './election-key.js';
import { leaderOf, sameLeader, serverIdOf, type ElectionState } from './election-state.js';
import { watchKey } from './watch-key.js';

/** Pause between failed attempts: quick at first (a lost race), capped well below a session TTL. */
export const DEFAULT_ELECTION_RETRY_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 50, maxMs: 1_000, multiplier: 2, jitter: 0.2 });

/** Options of {@link CoordinatorElection}. Durations in ms. */
export interface CoordinatorElectionOptions {
  readonly kv: MetaKV;
  /** Meta root, e.g. `by-dev/meta`. */
  readonly rootPath: string;
  /** `host:port` clients reach this coordinator at (written into the election key). */
  readonly address: string;
  /** Session lease TTL (≥ 2000). */
  readonly ttlMs: number;
  readonly keepaliveIntervalMs?: number;
  /** The session (and so the leadership) ends once no keepalive succeeded for `ttlMs − margin`. */
  readonly selfFenceMarginMs?: number;
  /** Session version (semver); default the Session's. */
  readonly version?: string;
  /** Default {@link DEFAULT_ELECTION_RETRY_BACKOFF}. */
  readonly retryBackoff?: Partial<BackoffOptions>;
  readonly logger?: Logger;
}

/**
 * See the module comment.
 *
 * @example
 * ```ts
 * const election = new CoordinatorElection({ kv, rootPath: 'by-dev/meta', address, ttlMs: 10_000 });
 * election.states$.subscribe((s) => { if (s.role === 'active') serveUntil(s.signal); });
 * await election.start();
 * // … on shutdown, after the active work stopped:
 * await election.close(); // revokes the lease: a standby takes over at once
 * ```
 */
export class CoordinatorElection {
  /** The election key, `<root>/session/streamingcoord`. */
  readonly key: string;
  /** The current state first, then every change; completes after `close()`. */
  readonly states$: Observable<ElectionState>;
  readonly #o: CoordinatorElectionOptions;
  readonly #log: Logger;
  readonly #subject = new BehaviorSubject<ElectionState>({ role: 'starting' });
  readonly #stop = new AbortController();
  #session: Session | undefined;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #closed = new Deferred<void | Error>();
  /** Why revoking the last session failed on close (rethrown by close()). */
  #closeError: unknown;

  constructor(options: CoordinatorElectionOptions) {
    this.#o = options;
    this.key = coordinatorElectionKey(options.rootPath);
    this.#log = (options.logger ?? noopLogger).child({ component: 'coord-election', key: this.key });
    this.states$ = this.#subject.asObservable();
    // Checked now, so a bad option fails the constructor rather than the first retry.
    new Backoff({ ...DEFAULT_ELECTION_RETRY_BACKOFF, ...options.retryBackoff });
  }

  get state(): ElectionState {
    return this.#subject.value;
  }

  get isActive(): boolean {
    return this.state.role === 'active';
  }

  /** The active coordinator as last seen (this one when active); undefined while unknown. */
  get leader(): ElectionLeader | undefined {
    return leaderOf(this.state);
  }

  get activeAddress(): string | undefined {
    return this.leader?.address;
  }

  /** This coordinator's current server id (it changes with every campaign); undefined between sessions. */
  get serverId(): bigint | undefined {
    return serverIdOf(this.state);
  }

  /**
   * Starts campaigning; resolves with the outcome of the first attempt (`active` or `standby`).
   * Rejects with the first attempt's error (store unreachable, …); the election is then closed.
   */
  async start(): Promise<ElectionState> {
    if (this.#loop !== undefined || this.#closing !== undefined) throw StreamingError.onShutdown('coordinator election already started or closed');
    const first = new Deferred<void>();
    this.#loop = this.#run(first);
    await first.promise;
    return this.state;
  }

  /**
   * Ends the election: leadership (if held) ends, the session lease is revoked — deleting the
   * election key, so a standby takes over at once — and `states$` completes. Idempotent. Stop the
   * work done as active *before* calling this, or two coordinators may overlap.
   */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  /** Resolves (never rejects) once `close()` finished, with the revoke failure if there was one. */
  closed(): Promise<void | Error> {
    return this.#closed.promise;
  }

  /** Test hook: the current session stops renewing its lease, as if keepalives were being lost. */
  pauseKeepaliveForTesting(): void {
    this.#session?.pauseKeepaliveForTesting();
  }

  async #doClose(): Promise<void> {
    this.#stop.abort(StreamingError.onShutdown('coordinator election closed'));
    await this.#loop;
    if (this.state.role !== 'closed') this.#set({ role: 'closed' });
    this.#subject.complete();
    const failure = this.#closeError;
    this.#closed.resolve(failure instanceof Error ? failure : undefined);
    if (failure !== undefined) throw failure;
  }

  #set(state: ElectionState): void {
    if (this.#subject.value.role === 'closed') return;
    this.#subject.next(state);
  }

  async #run(first: Deferred<void>): Promise<void> {
    const stop = this.#stop.signal;
    const backoff = new Backoff({ ...DEFAULT_ELECTION_RETRY_BACKOFF, ...this.#o.retryBackoff });
    try {
      while (!stop.aborted) {
        let session: Session | undefined;
        try {
          session = await this.#register();
          await this.#campaign(session, first);
          backoff.reset();
        } catch (error) {
          if (stop.aborted) break;
          if (!first.settled) {
            first.reject(error);
            return;
          }
          const delayMs = backoff.next();
          this.#log.warn({ err: describe(error), delayMs }, 'election attempt failed; retrying');
          this.#set({ role: 'campaigning', serverId: undefined, leader: this.leader });
          await abortableSleep(delayMs, stop).catch(() => undefined);
        } finally {
          if (session !== undefined) await this.#retire(session);
        }
      }
    } finally {
      first.reject(StreamingError.onShutdown('coordinator election closed before its first campaign'));
      this.#set({ role: 'closed' });
    }
  }

  async #register(): Promise<Session> {
    const o = this.#o;
    const session = await Session.register({
      kv: o.kv,
      rootPath: o.rootPath,
      role: STREAMING_COORD_ROLE,
      address: o.address,
      ttlMs: o.ttlMs,
      ...(o.keepaliveIntervalMs === undefined ? {} : { keepaliveIntervalMs: o.keepaliveIntervalMs }),
      ...(o.selfFenceMarginMs === undefined ? {} : { selfFenceMarginMs: o.selfFenceMarginMs }),
      ...(o.version === undefined ? {} : { version: o.version }),
      // The session binds its own `component`; give it the caller's logger, not ours.
      logger: o.logger ?? noopLogger,
    });
    this.#session = session;
    return session;
  }

  /** Revokes a session that is done with (best effort while open; remembered on close). */
  async #retire(session: Session): Promise<void> {
    if (this.#session === session) this.#session = undefined;
    try {
      await session.close();
    } catch (error) {
      // The lease then expires on its own after the TTL; only a closing election reports it.
      this.#log.warn({ err: describe(error), serverId: session.serverId }, 'revoking the coordinator session failed');
      if (this.#stop.signal.aborted) this.#closeError = error;
    }
  }

  /** One compare-and-swap on the election key with `session`, then leads or follows until the attempt ends. */
  async #campaign(session: Session, first: Deferred<void>): Promise<void> {
    const combined = anySignal([this.#stop.signal, session.signal]);
    try {
      if (combined.signal.aborted) return;
      this.#set({ role: 'campaigning', serverId: session.serverId, leader: this.leader });
      const result = await this.#o.kv.txn({
        compares: [{ key: this.key, target: 'version', op: '==', value: 0 }],
        success: [{ type: 'put', key: this.key, value: encodeSessionInfo(session.info), lease: session.leaseId }],
        failure: [{ type: 'get', key: this.key }],
      });
      if (result.succeeded) await this.#lead(session, combined.signal, first);
      else await this.#follow(session, result.gets[0], combined.signal, first);
    } finally {
      combined.dispose();
    }
  }

  /** Active until the key is lost or `signal` (close, session lost) aborts. */
  async #lead(session: Session, signal: AbortSignal, first: Deferred<void>): Promise<void> {
    const leadership = new AbortController();
    // Close and self-fence end the leadership at once, not when the watch next yields.
    const onStop = (): void => leadership.abort(abortReason(signal));
    signal.addEventListener('abort', onStop, { once: true });
    const leader: ElectionLeader = { serverId: session.serverId, address: this.#o.address };
    this.#log.info({ serverId: session.serverId, address: leader.address }, 'elected active coordinator');
    this.#set({ role: 'active', serverId: session.serverId, leader, signal: leadership.signal });
    first.resolve();
    try {
      for await (const kv of watchKey(this.#o.kv, this.key, { signal })) {
        if (kv === undefined || kv.lease !== session.leaseId) {
          const how = kv === undefined ? 'was deleted' : `was taken under lease ${kv.lease}`;
          leadership.abort(StreamingError.onShutdown(`election key ${this.key} ${how}; stepping down`));
          return;
        }
      }
    } finally {
      signal.removeEventListener('abort', onStop);
      if (!leadership.signal.aborted) leadership.abort(signal.aborted ? abortReason(signal) : StreamingError.onShutdown('leadership ended'));
      this.#log.warn({ serverId: session.serverId, reason: describe(leadership.signal.reason) }, 'no longer the active coordinator');
      this.#set({ role: 'campaigning', serverId: undefined, leader: undefined });
    }
  }

  /** Standby until the key is vacant (then the attempt ends and a new one campaigns) or `signal` aborts. */
  async #follow(session: Session, holder: KeyValue | undefined, signal: AbortSignal, first: Deferred<void>): Promise<void> {
    let leader = holder === undefined ? undefined : decodeElectionLeader(holder);
    this.#log.info({ serverId: session.serverId, active: leader?.address }, 'standing by');
    this.#set({ role: 'standby', serverId: session.serverId, leader });
    first.resolve();
    for await (const kv of watchKey(this.#o.kv, this.key, { signal })) {
      if (kv === undefined) {
        this.#log.info({ previous: leader?.address }, 'election key vacant; campaigning');
        return;
      }
      const next = decodeElectionLeader(kv);
      if (!sameLeader(next, leader)) {
        leader = next;
        this.#set({ role: 'standby', serverId: session.serverId, leader });
      }
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof StreamingError) return error.toString();
  return error instanceof Error ? error.message : String(error);
}
