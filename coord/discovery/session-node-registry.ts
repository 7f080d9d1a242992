/**
 * The coordinator's live view of streaming nodes, fed by their sessions in the meta store
 * (Milvus `sessionDiscoverer` + the manager client's per-node connections).
 *
 * Sequence: `start()` lists `<root>/session/streamingnode-*`, builds one client per node, publishes
 * the first view and resolves; then every watch batch yields a full session view, which is
 * diffed against the clients (create on join, close on leave or address change) before the new
 * view is published — so whoever reacts to a view finds `client(id)` ready for every node in it.
 */
import type * as grpc from '@grpc/grpc-js';
import { BehaviorSubject, type Observable } from 'rxjs';
import {
  Backoff,
  type BackoffOptions,
  Lifecycle,
  type Logger,
  type MetaKV,
  STREAMING_NODE_ROLE,
  type SessionView,
  StreamingError,
  abortableSleep,
  asStreamingError,
  noopLogger,
  watchSessions,
} from '../../shared/index.js';
import { GrpcNodeManagerClient } from './node-manager-client.js';
import type { NodeRegistry, NodeView, StreamingNodeManagerClient, StreamingNodeStatus } from './node-registry.js';
import { minVersionFilter } from './session-version.js';

/** A node client the registry owns (and closes when the node goes). */
export interface ClosableNodeManagerClient extends StreamingNodeManagerClient {
  close(): Promise<void>;
}

/** Options of {@link SessionNodeRegistry}. */
export interface SessionNodeRegistryOptions {
  readonly kv: MetaKV;
  /** Meta root, e.g. `by-dev/meta`. */
  readonly rootPath: string;
  /**
   * Ignore nodes whose session version is below this semver (Milvus uses `2.6.0-dev`: older
   * nodes do not speak the 2.6 protocol). Default: no filter.
   */
  readonly minVersion?: string;
  /** Default deadline of each node call (see `GrpcNodeManagerClient`). */
  readonly callTimeoutMs?: number;
  /** Extra grpc-js channel options of the node clients. */
  readonly channelOptions?: grpc.ChannelOptions;
  /** Builds the client of a joining node (tests); default a `GrpcNodeManagerClient`. */
  readonly createClient?: (node: StreamingNodeStatus) => ClosableNodeManagerClient;
  /** Pause before re-watching after the watch failed (default: shared DEFAULT_BACKOFF). */
  readonly retryBackoff?: Partial<BackoffOptions>;
  readonly logger?: Logger;
}

const EMPTY_VIEW: NodeView = Object.freeze({ revision: 0, nodes: new Map<bigint, StreamingNodeStatus>() });

interface ClientEntry {
  readonly client: ClosableNodeManagerClient;
  readonly untrack: () => void;
}

/**
 * `NodeRegistry` on `watchSessions(kv, root, 'streamingnode')`. Stopping nodes stay in the view
 * (with `stopping: true`) and keep their client: the balancer still has to move their channels.
 *
 * @example
 * ```ts
 * const registry = new SessionNodeRegistry({ kv, rootPath: 'by-dev/meta', minVersion: '2.6.0-dev' });
 * await registry.start();
 * registry.views$.subscribe((view) => balancer.onNodesChanged(view));
 * await registry.client(7n)?.assign(pchannelInfo('by-dev-rootcoord-dml_0', 3n));
 * await registry.close();
 * ```
 */
export class SessionNodeRegistry implements NodeRegistry {
  readonly views$: Observable<NodeView>;
  readonly #opts: SessionNodeRegistryOptions;
  readonly #log: Logger;
  readonly #accepts: (version: string) => boolean;
  readonly #subject = new BehaviorSubject<NodeView>(EMPTY_VIEW);
  readonly #clients = new Map<bigint, ClientEntry>();
  /** Closes of clients of departed nodes, still running; close() waits for them. */
  readonly #retiring = new Set<Promise<void>>();
  readonly #life = new Lifecycle({ name: 'node registry', onClose: () => this.#onClose() });
  #loop: Promise<void> = Promise.resolve();
  #listed = false;

  constructor(options: SessionNodeRegistryOptions) {
    this.#opts = options;
    this.#log = (options.logger ?? noopLogger).child({ component: 'node-registry' });
    this.#accepts = options.minVersion === undefined ? () => true : minVersionFilter(options.minVersion);
    this.views$ = this.#subject.asObservable();
  }

  /** Watches the sessions; resolves once the first full listing is applied. */
  start(): Promise<void> {
    return this.#life.start(
      () =>
        new Promise<void>((resolve, reject) => {
          this.#loop = this.#run(resolve, reject);
        }),
    );
  }

  current(): NodeView {
    return this.#subject.value;
  }

  client(serverId: bigint): StreamingNodeManagerClient | undefined {
    return this.#clients.get(serverId)?.client;
  }

  /** Ends the watch, closes every node client, completes `views$`. Idempotent. */
  close(reason?: Error): Promise<void> {
    return this.#life.close(reason);
  }

  /** Resolves once closed (with the close reason, if any); never rejects. */
  closed(): Promise<void | Error> {
    return this.#life.closed();
  }

  /** The watch loop: re-watches after a failure (with backoff) until closed. */
  async #run(onListed: () => void, onStartFailed: (e: StreamingError) => void): Promise<void> {
    const signal = this.#life.signal;
    const backoff = new Backoff(this.#opts.retryBackoff);
    const watchOptions = { signal, ...(this.#opts.logger ? { logger: this.#opts.logger } : {}) };
    while (!signal.aborted) {
      try {
        for await (const view of watchSessions(this.#opts.kv, this.#opts.rootPath, STREAMING_NODE_ROLE, watchOptions)) {
          if (signal.aborted) break;
          this.#apply(view);
          backoff.reset();
          if (!this.#listed) {
            this.#listed = true;
            onListed();
          }
        }
      } catch (e) {
        if (signal.aborted) break;
        const err = asStreamingError(e);
        // Before the first listing nothing is known: fail start() rather than serve an empty view.
        if (!this.#listed) return onStartFailed(err);
        // A closed store never comes back; the owner is shutting down and will close us.
        if (err.isOnShutdown()) {
          this.#log.error({ err: err.message }, 'meta store closed under the session watch; node view frozen');
          return;
        }
        this.#log.warn({ err: err.message }, 'session watch failed; watching again');
        await abortableSleep(backoff.next(), signal).catch(() => undefined);
      }
    }
    if (!this.#listed) onStartFailed(StreamingError.onShutdown('node registry closed before the first session listing'));
  }

  /** Turns a session view into a node view, syncs clients, publishes if anything changed. */
  #apply(view: SessionView): void {
    const nodes = new Map<bigint, StreamingNodeStatus>();
    for (const [serverId, session] of view.sessions) {
      if (!this.#accepts(session.version)) {
        this.#log.debug({ serverId, version: session.version }, 'ignoring a streaming node below the minimum version');
        continue;
      }
      nodes.set(serverId, Object.freeze({ serverId, address: session.address, stopping: session.stopping }));
    }
    this.#syncClients(nodes);
    const previous = this.#subject.value;
    // The first listing is always published (even empty): it tells subscribers discovery is live.
    if (this.#listed && sameNodes(previous.nodes, nodes)) return;
    this.#subject.next(Object.freeze({ revision: view.revision, nodes }));
  }

  #syncClients(nodes: ReadonlyMap<bigint, StreamingNodeStatus>): void {
    for (const [serverId, entry] of [...this.#clients]) {
      const node = nodes.get(serverId);
      if (node !== undefined && node.address === entry.client.address) continue;
      this.#clients.delete(serverId);
      this.#log.info({ serverId, address: entry.client.address, newAddress: node?.address }, node ? 'streaming node moved' : 'streaming node left');
      this.#retire(entry);
    }
    for (const [serverId, node] of nodes) {
      if (this.#clients.has(serverId)) continue;
      const client = this.#newClient(node);
      this.#clients.set(serverId, { client, untrack: this.#life.track(client) });
      this.#log.info({ serverId, address: node.address, stopping: node.stopping }, 'streaming node joined');
    }
  }

  #newClient(node: StreamingNodeStatus): ClosableNodeManagerClient {
    if (this.#opts.createClient) return this.#opts.createClient(node);
    return new GrpcNodeManagerClient({
      serverId: node.serverId,
      address: node.address,
      ...(this.#opts.callTimeoutMs !== undefined ? { callTimeoutMs: this.#opts.callTimeoutMs } : {}),
      ...(this.#opts.channelOptions ? { channelOptions: this.#opts.channelOptions } : {}),
      logger: this.#log,
    });
  }

  /** Closes a departed node's client in the background (its calls in flight fail ON_SHUTDOWN). */
  #retire(entry: ClientEntry): void {
    entry.untrack();
    const closing = entry.client
      .close()
      .catch((e: unknown) => this.#log.warn({ serverId: entry.client.serverId, err: asStreamingError(e).message }, 'closing a node client failed'))
      .finally(() => this.#retiring.delete(closing));
    this.#retiring.add(closing);
  }

  /** Runs after the live clients were closed (Lifecycle closes tracked children first). */
  async #onClose(): Promise<void> {
    await this.#loop;
    await Promise.allSettled([...this.#retiring]);
    this.#clients.clear();
    this.#subject.complete();
  }
}

function sameNodes(a: ReadonlyMap<bigint, StreamingNodeStatus>, b: ReadonlyMap<bigint, StreamingNodeStatus>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, x] of a) {
    const y = b.get(id);
    if (y === undefined || y.address !== x.address || y.stopping !== x.stopping) return false;
  }
  return true;
}
