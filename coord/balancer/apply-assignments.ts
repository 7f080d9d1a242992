/**
 * Phase 2 of the two-phase move (Milvus `applyBalanceResultToStreamingNode`, reference
 * `milvus-coord.md` §2.3, §2.5). Phase 1 already persisted every changed channel as ASSIGNING at
 * its new term with the histories to remove. Per channel, concurrently (bounded):
 *
 * 1. `Remove` every history `(term, node)` on its node, oldest first. A node without a session is
 *    skipped (logged: its close is not confirmed; the term fence protects the WAL). IGNORED /
 *    UNMATCHED_CHANNEL_TERM (the node holds something newer) and CHANNEL_NOT_EXIST (it holds
 *    nothing) count as done. Any other failure stops this channel: no Assign while an old owner
 *    may still be open.
 * 2. `Assign` the new term on the target node.
 * 3. The channel is done: done channels are persisted ASSIGNED in batches (one catalog write for
 *    all channels finished while the previous write was in flight), so a slow channel never holds
 *    back the others.
 *
 * A channel that fails anywhere stays ASSIGNING; the next pass sees it as not placed and
 * re-assigns it at term+1 with its histories kept, which repairs it.
 */
import { StreamingCode, StreamingError, abortReason, anySignal, asStreamingError, formatPChannelInfo, raceAbort } from '../../shared/index.js';
import type { Logger, PChannelInfo } from '../../shared/index.js';
import type { PChannelMeta } from '../catalog/index.js';
import type { ChannelManager } from '../channel/index.js';
import { assignHistories, currentAssignment, formatStreamingNode } from '../channel/index.js';
import type { NodeRegistry, StreamingNodeManagerClient } from '../discovery/index.js';

/** Inputs of {@link applyAssignments}. */
export interface ApplyOptions {
  readonly channels: ChannelManager;
  readonly registry: NodeRegistry;
  readonly operationTimeoutMs: number;
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** What phase 2 achieved. */
export interface ApplyResult {
  /** Persisted ASSIGNED. */
  readonly done: readonly string[];
  /** Left ASSIGNING, with the reason. */
  readonly failed: ReadonlyMap<string, StreamingError>;
}

/** Runs phase 2 for `changed` (the output of phase 1); see the module comment. Never rejects. */
export async function applyAssignments(changed: ReadonlyMap<string, PChannelMeta>, options: ApplyOptions): Promise<ApplyResult> {
  const failed = new Map<string, StreamingError>();
  const batcher = new DoneBatcher(options.channels, options.signal, options.logger);
  const queue = [...changed.values()];
  const worker = async (): Promise<void> => {
    for (let meta = queue.shift(); meta !== undefined; meta = queue.shift()) {
      try {
        await moveChannel(meta, options);
        batcher.add(meta.channel.name);
      } catch (err) {
        failed.set(meta.channel.name, asStreamingError(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, queue.length) }, worker));
  const persisted = await batcher.finish();
  for (const [name, err] of persisted.failed) failed.set(name, err);
  return { done: persisted.done, failed };
}

/** Remove every history, then Assign the current term; throws on the first failure. */
async function moveChannel(meta: PChannelMeta, options: ApplyOptions): Promise<void> {
  const { registry, logger } = options;
  for (const history of assignHistories(meta)) {
    const client = registry.client(history.node.serverId);
    const what = `${formatPChannelInfo(history.channel)}>${formatStreamingNode(history.node)}`;
    if (client === undefined) {
      logger.warn({ assignment: what }, 'node of old assignment is gone, wal close not confirmed');
      continue;
    }
    try {
      await callNode(client, 'remove', history.channel, options);
      logger.info({ assignment: what }, 'remove channel success');
    } catch (err) {
      const e = asStreamingError(err);
      if (!options.signal.aborted && (e.isSkippedOperation() || e.code === StreamingCode.CHANNEL_NOT_EXIST)) {
        logger.info({ assignment: what, code: e.code }, 'remove channel skipped by node (nothing newer to close)');
        continue;
      }
      logger.warn({ assignment: what, err: e }, 'fail to remove channel');
      throw e;
    }
  }
  const target = currentAssignment(meta);
  // Unreachable after phase 1 (every ASSIGNING meta has a node); kept as a typed guard.
  if (target === undefined) throw StreamingError.inner(`channel ${meta.channel.name} has no target node`);
  const what = `${formatPChannelInfo(target.channel)}>${formatStreamingNode(target.node)}`;
  const client = registry.client(target.node.serverId);
  if (client === undefined) {
    logger.warn({ assignment: what }, 'target node is gone, assign skipped');
    throw new StreamingError(StreamingCode.UNKNOWN, `target node ${target.node.serverId} of ${target.channel.name} is gone`);
  }
  try {
    await callNode(client, 'assign', target.channel, options);
  } catch (err) {
    logger.warn({ assignment: what, err }, 'fail to assign channel');
    throw err;
  }
  logger.info({ assignment: what }, 'assign channel success');
}

/** One RPC under the operation timeout and the pass's signal (the abort reason wins). */
async function callNode(client: StreamingNodeManagerClient, op: 'assign' | 'remove', channel: PChannelInfo, options: ApplyOptions): Promise<void> {
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new StreamingError(StreamingCode.UNKNOWN, `${op} ${formatPChannelInfo(channel)} timed out after ${options.operationTimeoutMs} ms`)),
    options.operationTimeoutMs,
  );
  const combined = anySignal([options.signal, timeout.signal]);
  try {
    // raceAbort: a client that ignores its signal must not keep a closing balancer waiting.
    await raceAbort(client[op](channel, { signal: combined.signal, timeoutMs: options.operationTimeoutMs }), combined.signal);
  } catch (err) {
    if (options.signal.aborted) throw abortReason(options.signal);
    throw err;
  } finally {
    clearTimeout(timer);
    combined.dispose();
  }
}

/** Persists done channels ASSIGNED, batching those that finish while a write is in flight. */
class DoneBatcher {
  readonly #channels: ChannelManager;
  readonly #signal: AbortSignal;
  readonly #logger: Logger;
  readonly #queued: string[] = [];
  readonly #done: string[] = [];
  readonly #failed = new Map<string, StreamingError>();
  #flushing: Promise<void> | undefined;

  constructor(channels: ChannelManager, signal: AbortSignal, logger: Logger) {
    this.#channels = channels;
    this.#signal = signal;
    this.#logger = logger;
  }

  add(name: string): void {
    this.#queued.push(name);
    this.#flushing ??= this.#drain();
  }

  async finish(): Promise<{ done: string[]; failed: Map<string, StreamingError> }> {
    await this.#flushing;
    return { done: this.#done, failed: this.#failed };
  }

  async #drain(): Promise<void> {
    while (this.#queued.length > 0) {
      const names = this.#queued.splice(0);
      try {
        await this.#channels.assignPChannelsDone(names, { signal: this.#signal });
        this.#done.push(...names);
      } catch (err) {
        const e = asStreamingError(err);
        this.#logger.warn({ channels: names, err: e }, 'fail to persist assignment done; channels stay ASSIGNING');
        for (const n of names) this.#failed.set(n, e);
      }
    }
    this.#flushing = undefined;
  }
}
