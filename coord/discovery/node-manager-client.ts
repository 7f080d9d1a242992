/**
 * The coordinator's client of one streaming node's `StreamingNodeManagerService` (Milvus
 * `streamingnode/client/manager`): one grpc-js channel per node address, domain types in and out.
 *
 * Milvus routes every call through one `ClientConn` with a server-id picker; here the registry
 * keeps one client per node instead, keyed by server id, so "node gone" is simply "no client".
 */
import * as grpc from '@grpc/grpc-js';
import {
  type Logger,
  type PChannelInfo,
  type ProtoOutput,
  STATUS_DETAILS_KEY,
  type StreamingNodeManagerServiceClient,
  StreamingError,
  abortReason,
  clientConstructors,
  formatPChannelInfo,
  fromServiceError,
  noopLogger,
} from '../../shared/index.js';
import { assignRequestToProto, collectStatusFromProto, removeRequestToProto } from './node-manager-convert.js';
import type { NodeCallOptions, StreamingNodeManagerClient, WalStatus } from './node-registry.js';

/**
 * Default deadline of a call: Milvus `streaming.walBalancer.operationTimeout` (5 min), because
 * an `Assign` includes the WAL's recovery, which can be long (Milvus issues #45602, #46370).
 */
export const DEFAULT_NODE_CALL_TIMEOUT_MS = 300_000;

/**
 * Channel options for nodes on a LAN or loopback:
 * - reconnect quickly (grpc-js defaults back off up to 120 s, far longer than a node restart);
 * - keepalive pings even while idle, so a node that vanished without closing its socket (kill -9
 *   of a VM, a cut link) is noticed in seconds. 10 s is above Milvus servers' enforced minimum
 *   (5 s), so they do not answer `too_many_pings`.
 */
export const DEFAULT_NODE_CHANNEL_OPTIONS: Readonly<grpc.ChannelOptions> = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
});

/** Options of {@link GrpcNodeManagerClient}. */
export interface GrpcNodeManagerClientOptions {
  readonly serverId: bigint;
  /** `host:port` from the node's session. */
  readonly address: string;
  /** Deadline of a call without its own `timeoutMs` (default {@link DEFAULT_NODE_CALL_TIMEOUT_MS}). */
  readonly callTimeoutMs?: number;
  /** Merged over {@link DEFAULT_NODE_CHANNEL_OPTIONS}. */
  readonly channelOptions?: grpc.ChannelOptions;
  readonly logger?: Logger;
}

type CollectStatusResponse = ProtoOutput<'milvus.proto.streaming.StreamingNodeManagerCollectStatusResponse'>;
type Method = 'Assign' | 'Remove' | 'CollectStatus';
type Start<T> = (options: grpc.CallOptions, callback: grpc.requestCallback<T>) => grpc.ClientUnaryCall;

/**
 * `StreamingNodeManagerClient` over grpc-js.
 *
 * Errors: a StreamingError the node sent (status details trailer) comes back with its code
 * intact (`e.code === CHANNEL_FENCED`…). A failure below the streaming layer (node unreachable,
 * deadline) becomes an UNKNOWN StreamingError that names the node and keeps the gRPC error as
 * `cause`, so `grpcCodeOf(e)` tells `UNAVAILABLE` / `DEADLINE_EXCEEDED` apart. Calls fail fast
 * while the node is unreachable (no `waitForReady`): the balancer, not the channel, decides when
 * to retry. A cancelled call rejects with the signal's reason; calls still running at `close()`
 * are cancelled and reject with ON_SHUTDOWN.
 *
 * @example
 * ```ts
 * const client = new GrpcNodeManagerClient({ serverId: 7n, address: '127.0.0.1:22222' });
 * await client.assign(pchannelInfo('by-dev-rootcoord-dml_0', 3n), { timeoutMs: 60_000 });
 * const wals = await client.collectStatus();
 * await client.close();
 * ```
 */
export class GrpcNodeManagerClient implements StreamingNodeManagerClient {
  readonly serverId: bigint;
  readonly address: string;
  readonly #client: StreamingNodeManagerServiceClient;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  /** Cancels each call in flight, for close(). */
  readonly #inflight = new Set<(reason: StreamingError) => void>();
  #closing: Promise<void> | undefined;

  constructor(options: GrpcNodeManagerClientOptions) {
    this.serverId = options.serverId;
    this.address = options.address;
    this.#timeoutMs = options.callTimeoutMs ?? DEFAULT_NODE_CALL_TIMEOUT_MS;
    this.#log = (options.logger ?? noopLogger).child({ component: 'node-manager-client', serverId: options.serverId, address: options.address });
    const channelOptions = { ...DEFAULT_NODE_CHANNEL_OPTIONS, ...options.channelOptions };
    this.#client = new (clientConstructors().streamingNodeManager)(options.address, grpc.credentials.createInsecure(), channelOptions);
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.#closing !== undefined;
  }

  async assign(channel: PChannelInfo, options?: NodeCallOptions): Promise<void> {
    const request = assignRequestToProto(channel);
    await this.#call(`Assign ${formatPChannelInfo(channel)}`, 'Assign', options, (o, cb) => this.#client.Assign(request, o, cb));
  }

  async remove(channel: PChannelInfo, options?: NodeCallOptions): Promise<void> {
    const request = removeRequestToProto(channel);
    await this.#call(`Remove ${formatPChannelInfo(channel)}`, 'Remove', options, (o, cb) => this.#client.Remove(request, o, cb));
  }

  async collectStatus(options?: NodeCallOptions): Promise<WalStatus[]> {
    const response = await this.#call<CollectStatusResponse>('CollectStatus', 'CollectStatus', options, (o, cb) => this.#client.CollectStatus({}, o, cb));
    try {
      return collectStatusFromProto(response);
    } catch (e) {
      // The node answered something we cannot read: its bug, not a bad request of ours.
      throw StreamingError.inner(`CollectStatus of streaming node ${this.serverId} at ${this.address} returned a malformed response`, e);
    }
  }

  /** Cancels calls in flight (they reject with ON_SHUTDOWN) and closes the channel. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const reason = StreamingError.onShutdown(`client of streaming node ${this.serverId} at ${this.address} closed`);
      for (const cancel of [...this.#inflight]) cancel(reason);
      this.#inflight.clear();
      this.#client.close();
      this.#log.debug({}, 'closed');
    })();
    return this.#closing;
  }

  /** One unary call with deadline, cancellation and error mapping. */
  #call<T>(what: string, method: Method, options: NodeCallOptions | undefined, start: Start<T>): Promise<T | undefined> {
    if (this.#closing !== undefined) {
      return Promise.reject(StreamingError.onShutdown(`${what}: client of streaming node ${this.serverId} is closed`));
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs;
    return new Promise<T | undefined>((resolve, reject) => {
      let cancelledBy: Error | undefined;
      let call: grpc.ClientUnaryCall | undefined;
      const cancel = (reason: Error): void => {
        cancelledBy ??= reason;
        call?.cancel();
      };
      const onAbort = (): void => cancel(abortReason(signal as AbortSignal));
      const done = (): void => {
        this.#inflight.delete(cancel);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#inflight.add(cancel);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        call = start({ deadline: Date.now() + timeoutMs }, (err, value) => {
          done();
          if (cancelledBy !== undefined) reject(cancelledBy);
          else if (err) reject(this.#mapError(what, method, err));
          else resolve(value);
        });
      } catch (e) {
        // grpc-js reports failures through the callback; a throw here is a bug on our side.
        done();
        reject(StreamingError.inner(`${what}: cannot start the call to streaming node ${this.serverId}`, e));
      }
    });
  }

  #mapError(what: string, method: Method, err: grpc.ServiceError): StreamingError {
    const error = fromServiceError(err);
    // The node's own StreamingError is passed on untouched (its code is what callers branch on).
    if (err.metadata.get(STATUS_DETAILS_KEY).length > 0) return error;
    this.#log.debug({ method, grpcCode: err.code, err: err.details }, 'call failed below the streaming layer');
    // A transport failure names no node by itself; add which one (the cause keeps the gRPC code).
    return new StreamingError(error.code, `${what} on streaming node ${this.serverId} at ${this.address}: ${error.message}`, { cause: err });
  }
}
