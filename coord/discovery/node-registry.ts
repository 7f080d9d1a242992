/**
 * What the coordinator knows about streaming nodes: who is alive (from their etcd sessions) and
 * how to reach each one (`StreamingNodeManagerService`). The balancer and the discovery server
 * depend on these interfaces only, so tests can drive them with in-process fakes.
 */
import type { Observable } from 'rxjs';
import type { PChannelInfo } from '../../shared/index.js';

/** One live streaming node, from its session. */
export interface StreamingNodeStatus {
  readonly serverId: bigint;
  readonly address: string;
  /** The node is shutting down gracefully: drain it, assign nothing new. */
  readonly stopping: boolean;
}

/** Every live node at a point of the session watch. */
export interface NodeView {
  /** Meta-store revision of the session watch; grows with every view. */
  readonly revision: number;
  readonly nodes: ReadonlyMap<bigint, StreamingNodeStatus>;
}

/** Per-WAL status a node reports (`CollectStatus`, Milvus `StreamingNodeWALMetrics`). */
export interface WalStatus {
  readonly channel: PChannelInfo;
  /** Read-write WALs only (read-only ones report nothing). */
  readonly mvccTimeTick?: bigint;
  readonly recoveryTimeTick?: bigint;
}

/** Options of one call to a node. */
export interface NodeCallOptions {
  /** Cancels the call; it then rejects with the abort reason. */
  readonly signal?: AbortSignal;
  /** Deadline of this call, ms from now (overrides the client's default). */
  readonly timeoutMs?: number;
}

/** The coordinator's view of one node's `StreamingNodeManagerService`. Errors are StreamingErrors. */
export interface StreamingNodeManagerClient {
  readonly serverId: bigint;
  readonly address: string;
  /** Opens the WAL at that term; resolves once it is open (recovery included). */
  assign(channel: PChannelInfo, options?: NodeCallOptions): Promise<void>;
  /** Closes the WAL of that term (a stale term is refused by the node with IGNORED_OPERATION). */
  remove(channel: PChannelInfo, options?: NodeCallOptions): Promise<void>;
  collectStatus(options?: NodeCallOptions): Promise<WalStatus[]>;
}

/** Live nodes and their clients. */
export interface NodeRegistry {
  /** The latest view (empty before the first session listing). */
  current(): NodeView;
  /** The latest view now and on every change (latest value wins). */
  readonly views$: Observable<NodeView>;
  /** The client of a live node; undefined when the node is unknown (gone). */
  client(serverId: bigint): StreamingNodeManagerClient | undefined;
  close(): Promise<void>;
}
