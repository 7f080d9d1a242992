/**
 * An in-process fake streaming node for coordinator tests (registry, balancer, discovery server,
 * end-to-end coordinator): a real grpc-js server on `127.0.0.1:0` serving `StreamingNodeManagerService`
 * and a minimal `StreamingNodeStateService.GetComponentStates`, plus — given a meta store — a real
 * `Session` (role `streamingnode`, its bound address), so a coordinator discovers it like a real node.
 *
 * WAL bookkeeping (fake-node-wals.ts) follows the real node's `(term, available)` rule
 * (node/wal-manager): each pchannel has an *expected* state that only moves forward.
 * - `Assign(ch@t)` opens `ch` at `t` (replacing a lower term); asking for a state that is not newer
 *   (same term again, or a lower term) fails IGNORED_OPERATION.
 * - `Remove(ch@t)` closes `ch` if it is open at a term ≤ `t` (a never-opened term succeeds too);
 *   a stale remove (a newer state was already asked for) fails IGNORED_OPERATION, nothing changes.
 * - `CollectStatus` reports every open channel: read-write ones with the time ticks set by
 *   {@link FakeStreamingNode.setWalMetrics} (default 0), read-only ones without.
 *
 * Scripting (fake-node-script.ts): every manager call is recorded in arrival order in `calls` (terms as exact bigints);
 * `failNext(n, err)` fails the next `n` calls with that StreamingError (sent as a real node sends
 * it, status details trailer included); `hold()` parks calls until `release()`. Lifecycle:
 * `markStopping()`, `deregister()` / `register()`, `stop()` (graceful), `kill()` (crash).
 *
 * @example
 * ```ts
 * const node = await startFakeStreamingNode({ kv, rootPath, ttlMs: 2_000 });
 * await registry.client(node.serverId)!.assign(pchannelInfo('ch-1', 5n));
 * expect(node.calls.map((c) => c.method)).toEqual(['Assign']);
 * expect(node.openChannels().get('ch-1')?.term).toBe(5n);
 * node.failNext(1, StreamingError.channelFenced('ch-1'));
 * await node.stop(); // revokes the session: the coordinator sees the node leave at once
 * // or: await node.kill(); // no revoke: the session expires with its lease (ttlMs)
 * ```
 */
import * as grpc from '@grpc/grpc-js';
import {
  type MetaKV,
  type PChannelInfo,
  STREAMING_NODE_ROLE,
  Session,
  StreamingError,
  type StreamingNodeManagerServiceHandlers,
  type StreamingNodeStateServiceHandlers,
  pchannelInfoFromProto,
  serviceDefinitions,
  toServiceError,
} from '../../shared/index.js';
import { collectStatusToProto } from '../../coord/discovery/index.js';
import { FakeNodeScript, type FakeNodeMethod, type FakeNodeMethodFilter } from './fake-node-script.js';
import { FakeNodeWals, type FakeWalTicks } from './fake-node-wals.js';

export type { FakeNodeMethod, FakeNodeMethodFilter, FakeWalTicks };

/** One manager call as the fake received it. `outcome` is updated when the call completes. */
export interface FakeNodeCall {
  readonly seq: number;
  readonly method: FakeNodeMethod;
  /** The pchannel of Assign / Remove, exactly as sent (term as bigint). */
  readonly channel?: PChannelInfo;
  outcome: 'pending' | 'ok' | 'failed' | 'cancelled';
  error?: StreamingError;
}

export interface FakeStreamingNodeOptions {
  /** Meta store to register a session in; without it the node is reachable but undiscoverable. */
  readonly kv?: MetaKV;
  /** Meta root (default `by-dev/meta`). */
  readonly rootPath?: string;
  /** Session lease TTL, ms (default 10 000; ≥ 2000). */
  readonly ttlMs?: number;
  /** Session version (default the Session's, `2.6.0`). */
  readonly version?: string;
  /** Register the session at start (default: true when `kv` is given). */
  readonly register?: boolean;
  /** Server id to report before (or without) a session (default 0). */
  readonly serverId?: bigint;
  /** Further services to serve (e.g. a handler service of an end-to-end test). */
  readonly services?: ReadonlyArray<{ readonly definition: grpc.ServiceDefinition; readonly handlers: grpc.UntypedServiceImplementation }>;
}


/** See the file comment. Start one with {@link startFakeStreamingNode}. */
export class FakeStreamingNode {
  readonly address: string;
  readonly port: number;
  readonly calls: FakeNodeCall[] = [];
  readonly #server: grpc.Server;
  readonly #opts: FakeStreamingNodeOptions;
  readonly #wals = new FakeNodeWals();
  readonly #script = new FakeNodeScript();
  #session: Session | undefined;
  #serverId: bigint;
  #stopping = false;
  #down: StreamingError | undefined;

  /** Use {@link startFakeStreamingNode}. */
  constructor(server: grpc.Server, port: number, opts: FakeStreamingNodeOptions) {
    this.#server = server;
    this.port = port;
    this.address = `127.0.0.1:${port}`;
    this.#opts = opts;
    this.#serverId = opts.serverId ?? 0n;
  }

  /** The session's server id once registered (a new one per registration), else `options.serverId`. */
  get serverId(): bigint {
    return this.#serverId;
  }

  /** The live session, if registered (e.g. to pause its keepalive). */
  get session(): Session | undefined {
    return this.#session;
  }

  /** Calls parked by {@link hold} right now. */
  get heldCount(): number {
    return this.#script.parked;
  }

  /** The recorded calls of one method. */
  callsOf(method: FakeNodeMethod): FakeNodeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Open channels by name. */
  openChannels(): ReadonlyMap<string, PChannelInfo> {
    return this.#wals.open();
  }

  /** Time ticks CollectStatus reports for `channel` while it is open read-write. */
  setWalMetrics(channel: string, ticks: FakeWalTicks): void {
    this.#wals.setTicks(channel, ticks);
  }

  /** The next `n` calls (of `method`, or of any manager method) fail with `error`. */
  failNext(n: number, error: StreamingError, filter: FakeNodeMethodFilter = {}): void {
    this.#script.failNext(n, error, filter);
  }

  /** Parks every later call (of `method`, or of any manager method) until {@link release}. */
  hold(filter: FakeNodeMethodFilter = {}): void {
    this.#script.hold(filter);
  }

  /** Lets parked calls go on, in arrival order. */
  release(): void {
    this.#script.release();
  }

  /** Registers the session (role streamingnode, this address); the serverId becomes the session's. */
  async register(): Promise<void> {
    const { kv } = this.#opts;
    if (kv === undefined) throw new Error('fake streaming node: no meta store (options.kv) to register in');
    if (this.#session !== undefined) throw new Error(`fake streaming node ${this.#serverId} is already registered`);
    this.#session = await Session.register({
      kv,
      rootPath: this.#opts.rootPath ?? 'by-dev/meta',
      role: STREAMING_NODE_ROLE,
      address: this.address,
      ttlMs: this.#opts.ttlMs ?? 10_000,
      ...(this.#opts.version !== undefined ? { version: this.#opts.version } : {}),
    });
    this.#serverId = this.#session.serverId;
  }

  /** Revokes the session (the node leaves the coordinator's view at once) but keeps serving. */
  async deregister(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }

  /** Rewrites the session with `Stopping: true` (graceful drain); GetComponentStates says Stopping. */
  async markStopping(): Promise<void> {
    this.#stopping = true;
    await this.#session?.markStopping();
  }

  /** Graceful stop: revokes the session (watchers see the node leave at once), then shuts the server. */
  async stop(): Promise<void> {
    if (this.#down) return;
    this.#down = StreamingError.onShutdown(`fake streaming node ${this.#serverId} stopped`);
    this.release();
    await this.#session?.close();
    await shutdown(this.#server);
  }

  /** Crash: drops every connection and stops renewing the lease without revoking it; the session
   *  key disappears only when the lease expires (`ttlMs`). */
  async kill(): Promise<void> {
    if (this.#down) return;
    this.#down = StreamingError.onShutdown(`fake streaming node ${this.#serverId} killed`);
    this.#session?.pauseKeepaliveForTesting();
    this.#server.forceShutdown();
    this.release();
  }

  /** The service implementation (registered by {@link startFakeStreamingNode}). */
  managerHandlers(): StreamingNodeManagerServiceHandlers {
    return {
      Assign: (call, callback) => void this.#serve('Assign', call, callback, (ch) => this.#wals.assign(ch!)),
      Remove: (call, callback) => void this.#serve('Remove', call, callback, (ch) => this.#wals.remove(ch!)),
      CollectStatus: (call, callback) => void this.#serve('CollectStatus', call, callback, () => collectStatusToProto(this.#wals.statuses())),
    };
  }

  stateHandlers(): StreamingNodeStateServiceHandlers {
    return {
      GetComponentStates: (_call, callback) =>
        callback(null, {
          state: { nodeID: this.#serverId.toString(), role: STREAMING_NODE_ROLE, state_code: this.#stopping ? 'Stopping' : 'Healthy' },
          subcomponent_states: [],
          status: { code: 0, reason: '' },
        }),
    };
  }

  /** Record → (hold) → scripted failure or apply → answer. */
  async #serve<Res>(
    method: FakeNodeMethod,
    call: grpc.ServerUnaryCall<{ pchannel?: unknown }, Res>,
    callback: grpc.sendUnaryData<Res>,
    apply: (channel: PChannelInfo | undefined) => Res | void,
  ): Promise<void> {
    let channel: PChannelInfo | undefined;
    try {
      if (method !== 'CollectStatus') channel = pchannelInfoFromProto(call.request.pchannel as Parameters<typeof pchannelInfoFromProto>[0]);
    } catch (e) {
      return callback(toServiceError(e));
    }
    const record: FakeNodeCall = { seq: this.calls.length + 1, method, outcome: 'pending', ...(channel ? { channel } : {}) };
    this.calls.push(record);
    const failure = this.#script.takeFailure(method);
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
      if (record.outcome === 'pending') record.outcome = 'cancelled';
    });
    await this.#script.park(method);
    const error = this.#down ?? failure;
    // Gone while parked (cancelled, or grpc-js already answered DEADLINE_EXCEEDED): apply nothing.
    if (cancelled || pastDeadline(call)) {
      record.outcome = 'cancelled';
      return;
    }
    try {
      if (error) throw error;
      const response = apply(channel) ?? ({} as Res);
      record.outcome = 'ok';
      callback(null, response);
    } catch (e) {
      record.outcome = 'failed';
      record.error = e as StreamingError;
      callback(toServiceError(e));
    }
  }
}

function pastDeadline(call: grpc.ServerUnaryCall<unknown, unknown>): boolean {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && Date.now() >= ms;
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    // Parked calls were released with ON_SHUTDOWN, so this is quick; force it if a call lingers.
    const force = setTimeout(() => server.forceShutdown(), 2_000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/** Starts a fake node on `127.0.0.1:0` and, when `kv` is given, registers its session. */
export async function startFakeStreamingNode(options: FakeStreamingNodeOptions = {}): Promise<FakeStreamingNode> {
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const node = new FakeStreamingNode(server, port, options);
  server.addService(serviceDefinitions().streamingNodeManager, node.managerHandlers());
  server.addService(serviceDefinitions().streamingNodeState, node.stateHandlers());
  for (const service of options.services ?? []) server.addService(service.definition, service.handlers);
  // Reachable before discoverable, as a real node (Milvus registers its session last).
  if (options.register ?? options.kv !== undefined) {
    try {
      await node.register();
    } catch (e) {
      server.forceShutdown();
      throw e;
    }
  }
  return node;
}
