/**
 * Collecting node status for one balance pass (Milvus `fetchStreamingNodeStatus` +
 * `CollectAllStatus`, reference `milvus-coord.md` §3.3): ask every candidate node for its WALs
 * concurrently under one deadline, then read the session view again, so a node that left or
 * started stopping meanwhile is not trusted. A node whose call fails or misses the deadline is
 * unhealthy for this pass: it is left out of the layout, so its channels count as lost and move.
 */
import { setMaxListeners } from 'node:events';
import { anySignal, asStreamingError, physicalDiffMs, raceAbort } from '../../shared/index.js';
import type { Logger, StreamingError } from '../../shared/index.js';
import type { NodeRegistry, StreamingNodeStatus, WalStatus } from '../discovery/index.js';
import type { LayoutNode } from './policy/index.js';

/** Recovery lag one node reported for a WAL it holds at `term`. */
export interface ReportedLag {
  readonly serverId: bigint;
  readonly term: bigint;
  readonly lagMs: number;
}

/** The nodes of one pass as the policy sees them. */
export interface CollectedNodes {
  /** Live nodes: healthy ones, plus frozen / stopping ones flagged (the policy drains those). */
  readonly nodes: readonly LayoutNode[];
  /** Recovery lag per pchannel name, from healthy nodes. */
  readonly lags: ReadonlyMap<string, ReportedLag>;
  /** Nodes left out this pass because their status call failed, with the error. */
  readonly failed: ReadonlyMap<bigint, StreamingError>;
}

/** Inputs of {@link collectNodeStatus}. */
export interface CollectOptions {
  readonly registry: NodeRegistry;
  readonly frozen: ReadonlySet<bigint>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** Collects the node layout of one pass; see the module comment. Rejects only when `signal` aborts. */
export async function collectNodeStatus(options: CollectOptions): Promise<CollectedNodes> {
  const { registry, frozen, signal, logger } = options;
  const before = registry.current().nodes;
  // Frozen and stopping nodes are drained whatever they report: no need to ask them.
  const candidates = [...before.values()].filter((n) => !n.stopping && !frozen.has(n.serverId));
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error(`collectStatus deadline of ${options.timeoutMs} ms passed`)), options.timeoutMs);
  const combined = anySignal([signal, deadline.signal]);
  // One listener per node call is expected here, not a leak.
  setMaxListeners(candidates.length + 10, combined.signal);
  let results: PromiseSettledResult<WalStatus[]>[];
  try {
    results = await Promise.allSettled(candidates.map((n) => collectOne(registry, n, combined.signal, options.timeoutMs)));
  } finally {
    clearTimeout(timer);
    combined.dispose();
  }
  signal.throwIfAborted();

  const statuses = new Map<bigint, WalStatus[]>();
  const failed = new Map<bigint, StreamingError>();
  candidates.forEach((n, i) => {
    const r = results[i];
    if (r?.status === 'fulfilled') statuses.set(n.serverId, r.value);
    else failed.set(n.serverId, asStreamingError(r?.reason));
  });
  for (const [serverId, err] of failed) logger.warn({ serverId: serverId.toString(), err }, 'node status unavailable, node unhealthy for this pass');

  const after = registry.current().nodes;
  const nodes: LayoutNode[] = [];
  for (const [serverId, first] of before) {
    const now = after.get(serverId);
    if (now === undefined) continue; // left while we were asking
    const drained = frozen.has(serverId) || first.stopping || now.stopping;
    if (!drained && !statuses.has(serverId)) continue; // unhealthy this pass
    nodes.push(Object.freeze({ serverId, address: now.address, frozen: frozen.has(serverId), stopping: first.stopping || now.stopping }));
  }
  return { nodes, lags: lagsOf(statuses, logger), failed };
}

async function collectOne(registry: NodeRegistry, node: StreamingNodeStatus, signal: AbortSignal, timeoutMs: number): Promise<WalStatus[]> {
  const client = registry.client(node.serverId);
  if (client === undefined) throw new Error(`node ${node.serverId} has no client (gone)`);
  // raceAbort: a client that ignores the signal must not hold the whole pass past the deadline.
  return raceAbort(client.collectStatus({ signal, timeoutMs }), signal);
}

/** Recovery lag = physical time of the mvcc time tick minus that of the recovery time tick. */
function lagsOf(statuses: ReadonlyMap<bigint, WalStatus[]>, logger: Logger): Map<string, ReportedLag> {
  const lags = new Map<string, ReportedLag>();
  for (const [serverId, wals] of statuses) {
    for (const wal of wals) {
      if (wal.mvccTimeTick === undefined || wal.recoveryTimeTick === undefined) continue;
      try {
        const lagMs = Math.max(0, Number(physicalDiffMs(wal.mvccTimeTick, wal.recoveryTimeTick)));
        lags.set(wal.channel.name, { serverId, term: wal.channel.term, lagMs });
      } catch (err) {
        // A malformed time tick from one node must not fail the pass; the WAL just has no lag info.
        logger.warn({ serverId: serverId.toString(), channel: wal.channel.name, err }, 'bad time tick in node status');
      }
    }
  }
  return lags;
}
