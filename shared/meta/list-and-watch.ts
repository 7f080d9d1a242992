/**
 * The safe way to mirror a key prefix: list it, then watch from just after the listed revision;
 * whenever the watch reports compaction (or the listing itself hits a compacted revision), list
 * again. A consumer applies each `snapshot` by replacing its whole state and each `events` batch
 * incrementally, and so never silently misses a change.
 */
import { StreamingCode, StreamingError, isStreamingError } from '../errors/index.js';
import type { KeyValue, MetaKV, WatchEvent } from './meta-kv.js';

/** What {@link listAndWatch} yields. */
export type ListAndWatchItem =
  /** The full state of the prefix at `revision`: replace everything known so far. */
  | { readonly kind: 'snapshot'; readonly revision: number; readonly kvs: readonly KeyValue[] }
  /** The changes of one revision after the last snapshot. */
  | { readonly kind: 'events'; readonly revision: number; readonly events: readonly WatchEvent[] };

/** Options of {@link listAndWatch}. */
export interface ListAndWatchOptions {
  /** Ends the iteration (normally, without an error). */
  readonly signal?: AbortSignal;
  /** Keys per range request while listing (default 1000). */
  readonly pageSize?: number;
  /** First and longest pause before listing again after a failed listing (defaults 100 ms, 2000 ms). */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Told about each failed listing that will be retried (the store unreachable, INNER). */
  readonly onRetry?: (error: StreamingError) => void;
}

/** Lists every key under `prefix` at one revision, page by page. */
async function listAll(kv: MetaKV, prefix: string, pageSize: number): Promise<{ revision: number; kvs: KeyValue[] }> {
  const first = await kv.range(prefix, { limit: pageSize });
  const kvs = [...first.kvs];
  let more = first.more;
  while (more) {
    // Later pages read at the first page's revision, so the snapshot is consistent.
    const page = await kv.range(prefix, { limit: pageSize, startAfter: kvs[kvs.length - 1]!.key, revision: first.revision });
    kvs.push(...page.kvs);
    more = page.more;
  }
  return { revision: first.revision, kvs };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Lists with retries: INNER failures (unreachable store, compacted revision) are retried with
 *  backoff until `signal` aborts; anything else (closed store, bad argument) is thrown. */
async function listWithRetry(
  kv: MetaKV,
  prefix: string,
  options: ListAndWatchOptions,
): Promise<{ revision: number; kvs: KeyValue[] } | undefined> {
  const { signal, pageSize = 1000, retryInitialMs = 100, retryMaxMs = 2000 } = options;
  let delay = retryInitialMs;
  while (!signal?.aborted) {
    try {
      return await listAll(kv, prefix, pageSize);
    } catch (e) {
      if (!isStreamingError(e) || e.code !== StreamingCode.INNER) throw e;
      options.onRetry?.(e);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, retryMaxMs);
    }
  }
  return undefined;
}

/**
 * Snapshot, then events, re-listing after compaction.
 *
 * @example
 * ```ts
 * const nodes = new Map<string, Buffer>();
 * for await (const item of listAndWatch(kv, 'by-dev/meta/session/', { signal })) {
 *   if (item.kind === 'snapshot') { nodes.clear(); for (const k of item.kvs) nodes.set(k.key, k.value); }
 *   else for (const e of item.events) e.type === 'put' ? nodes.set(e.kv.key, e.kv.value) : nodes.delete(e.kv.key);
 * }
 * ```
 */
export async function* listAndWatch(kv: MetaKV, prefix: string, options: ListAndWatchOptions = {}): AsyncGenerator<ListAndWatchItem, void, undefined> {
  const { signal } = options;
  while (!signal?.aborted) {
    const snapshot = await listWithRetry(kv, prefix, options);
    if (snapshot === undefined) return;
    yield { kind: 'snapshot', revision: snapshot.revision, kvs: snapshot.kvs };
    if (signal?.aborted) return;
    const watch = kv.watch(prefix, { fromRevision: snapshot.revision + 1, ...(signal ? { signal } : {}) });
    try {
      for await (const batch of watch) {
        // Compacted: the watch ends; fall through to list again.
        if (batch.kind === 'events') yield batch;
      }
    } finally {
      await watch.close();
    }
  }
}
