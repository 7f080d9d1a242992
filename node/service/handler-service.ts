/**
 * `milvus.proto.streaming.StreamingNodeHandlerService` on a streaming node: `Produce` and
 * `Consume` (bidi streams, wire-compatible with Milvus 2.6 plus our opt-in batching extension;
 * see produce/produce-server.ts and consume/consume-server.ts for the message sequences), and
 * `GetReplicateCheckpoint`, which answers UNIMPLEMENTED (replication is not built, DESIGN.md §10).
 */
import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import {
  type Logger,
  noopLogger,
  serviceDefinitions,
  StreamingError,
  type StreamingNodeHandlerServiceHandlers,
} from '../../shared/index.js';
import { type ConsumeRequestFrame, type ConsumeResponseFrame, type ConsumerStats, type ConsumeServer, serveConsume } from './consume/index.js';
import {
  type HandlerLimits,
  type HandlerWalSource,
  type ProduceRequestFrame,
  type ProduceResponseFrame,
  type ProducerStats,
  type ProduceServer,
  resolveHandlerLimits,
  serveProduce,
  type StreamContext,
  withTolerantRequestDecoding,
} from './produce/index.js';
import type { ServiceRegistration } from './service-registration.js';

/** Options of {@link HandlerService}. */
export interface HandlerServiceOptions {
  /**
   * Where streams find their WAL: the node's WAL manager, or a getter of the one serving now (the
   * node replaces its manager after a self-fence; the getter throws ON_SHUTDOWN while there is none).
   */
  readonly walManager: HandlerWalSource | (() => HandlerWalSource);
  /** Sent in every `create` frame; a getter may answer undefined before registration (sent as 0). */
  readonly serverId: bigint | (() => bigint | undefined);
  /** Defaults: see `DEFAULT_HANDLER_LIMITS`. */
  readonly limits?: Partial<HandlerLimits>;
  readonly logger?: Logger;
}

/** A snapshot of one live stream, for diagnostics, metrics and tests. */
export type HandlerStreamStats = ProducerStats | ConsumerStats;

type ProduceCall = grpc.ServerDuplexStream<ProduceRequestFrame, ProduceResponseFrame>;
type ConsumeCall = grpc.ServerDuplexStream<ConsumeRequestFrame, ConsumeResponseFrame>;

/**
 * The handler service as a node {@link ServiceRegistration}: its definition (request frames that
 * do not decode reach the handlers as a value, so such a stream ends with INVAILD_ARGUMENT and
 * details instead of a bare INTERNAL), its handlers, live stream stats, and `close(reason)`, which
 * ends every stream with `reason` (after answering accepted appends) and resolves when all ended.
 *
 * @example
 * ```ts
 * const handler = new HandlerService({ walManager: () => node.walManager(), serverId: () => node.serverId, logger });
 * server.addService(handler.definition, handler.handlers);
 * // shutdown: await handler.close(StreamingError.onShutdown('node is stopping'));
 * ```
 */
export class HandlerService implements ServiceRegistration {
  readonly definition: grpc.ServiceDefinition;
  readonly handlers: StreamingNodeHandlerServiceHandlers;
  readonly limits: HandlerLimits;
  readonly #context: StreamContext;
  readonly #stop = new AbortController();
  readonly #servers = new Set<ProduceServer | ConsumeServer>();
  readonly #calls = new Set<Promise<void>>();
  readonly #log: Logger;
  #closing: Promise<void> | undefined;

  /** @throws RangeError for invalid limits. */
  constructor(options: HandlerServiceOptions) {
    this.limits = resolveHandlerLimits(options.limits);
    this.#log = (options.logger ?? noopLogger).child({ component: 'handler-service' });
    // Every live stream listens to it.
    setMaxListeners(0, this.#stop.signal);
    const { walManager, serverId } = options;
    this.#context = {
      wals: typeof walManager === 'function' ? walManager : () => walManager,
      serverId: typeof serverId === 'function' ? () => serverId() ?? 0n : () => serverId,
      limits: this.limits,
      logger: options.logger ?? noopLogger,
      shutdown: this.#stop.signal,
    };
    this.definition = withTolerantRequestDecoding(serviceDefinitions().streamingNodeHandler);
    this.handlers = {
      // The tolerant definition widens what arrives by UndecodableFrame; the servers handle it.
      Produce: (call) => this.#serve((onServing) => serveProduce(call as unknown as ProduceCall, this.#context, onServing)),
      Consume: (call) => this.#serve((onServing) => serveConsume(call as unknown as ConsumeCall, this.#context, onServing)),
      GetReplicateCheckpoint: (_call, callback) => {
        callback({
          code: grpc.status.UNIMPLEMENTED,
          details: 'GetReplicateCheckpoint is not implemented: cross-cluster replication is not supported by this streaming node',
          metadata: new grpc.Metadata(),
        });
      },
    };
  }

  /** Every live producer and consumer stream. */
  stats(): HandlerStreamStats[] {
    return [...this.#servers].map((s) => s.stats());
  }

  /**
   * Ends every stream with `reason` (default ON_SHUTDOWN) and refuses new ones; resolves when all
   * calls ended. A stream whose client does not read its last answers ends when grpc-js cancels it
   * (the server's forced shutdown). Idempotent.
   */
  close(reason: Error = StreamingError.onShutdown('streaming node handler service is stopping')): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort(reason);
      this.#log.info({ streams: this.#calls.size }, 'handler service closing its streams');
      await Promise.allSettled([...this.#calls]);
    })();
    return this.#closing;
  }

  /** Runs one stream's handler and tracks it until the call ended (the handler refuses it once stopped). */
  #serve(run: (onServing: (server: ProduceServer | ConsumeServer) => void) => Promise<void>): void {
    let server: ProduceServer | ConsumeServer | undefined;
    const done: Promise<void> = run((s) => {
      server = s;
      this.#servers.add(s);
    })
      .catch((error: unknown) => this.#log.error({ err: error }, 'stream handler failed unexpectedly'))
      .finally(() => {
        if (server !== undefined) this.#servers.delete(server);
        this.#calls.delete(done);
      });
    this.#calls.add(done);
  }
}

/**
 * The handlers of StreamingNodeHandlerService, for callers that register the plain definition
 * (`serviceDefinitions().streamingNodeHandler`). Prefer registering a {@link HandlerService}: it
 * also reports undecodable frames clearly and can end its streams on shutdown.
 */
export function handlerServiceImplementation(options: HandlerServiceOptions): StreamingNodeHandlerServiceHandlers {
  return new HandlerService(options).handlers;
}
