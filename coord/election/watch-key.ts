/**
 * One key of the meta store as a stream of its values, built on `listAndWatch` (which re-lists
 * after compaction, so no change is ever missed).
 */
import { listAndWatch } from '../../shared/index.js';
import type { KeyValue, MetaKV, StreamingError } from '../../shared/index.js';

/** Options of {@link watchKey}. */
export interface WatchKeyOptions {
  /** Ends the iteration normally. */
  readonly signal?: AbortSignal;
  /** Told about each failed listing that will be retried (the store unreachable). */
  readonly onRetry?: (error: StreamingError) => void;
}

/**
 * Yields the current value of `key` (undefined = absent) at once, then again after every change
 * of that key. The store only watches prefixes, so changes of longer keys starting with `key`
 * (e.g. the `streamingcoord-<id>` sessions beside the election key) are filtered out here.
 */
export async function* watchKey(kv: MetaKV, key: string, options: WatchKeyOptions = {}): AsyncGenerator<KeyValue | undefined, void, undefined> {
  let current: KeyValue | undefined;
  for await (const item of listAndWatch(kv, key, options)) {
    if (item.kind === 'snapshot') {
      current = item.kvs.find((entry) => entry.key === key);
      yield current;
      continue;
    }
    let touched = false;
    for (const event of item.events) {
      if (event.kv.key !== key) continue;
      touched = true;
      current = event.type === 'put' ? event.kv : undefined;
    }
    if (touched) yield current;
  }
}
