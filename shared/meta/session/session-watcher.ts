import { listAndWatch } from '../list-and-watch.js';
import type { KeyValue, MetaKV } from '../meta-kv.js';
import { noopLogger, type Logger } from '../../log/index.js';
import { decodeSessionInfo, type SessionInfo } from './session-info.js';
import { sessionRolePrefix } from './session-keys.js';

/** The live sessions of one role as of a store revision. */
export interface SessionView {
  /** Store revision the view reflects; it grows with every view. */
  readonly revision: number;
  /** By server id. Stopping sessions are included (with `stopping: true`). */
  readonly sessions: ReadonlyMap<bigint, SessionInfo>;
}

export interface WatchSessionsOptions {
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/**
 * Watches the sessions of a role (Milvus `sessionDiscoverer`): yields the full view at once, then
 * a new full view after every change. A compacted watch re-lists, so no join or departure is ever
 * missed; intermediate views may be skipped by a slow reader only in the sense that each view is
 * complete. Values that do not decode are skipped with a warning (another process's bug must not
 * stop discovery).
 *
 * @example
 * ```ts
 * for await (const view of watchSessions(kv, 'by-dev/meta', STREAMING_NODE_ROLE, { signal })) {
 *   balancer.onNodes(view.sessions);
 * }
 * ```
 */
export async function* watchSessions(
  kv: MetaKV,
  rootPath: string,
  role: string,
  options: WatchSessionsOptions = {},
): AsyncGenerator<SessionView> {
  const prefix = sessionRolePrefix(rootPath, role);
  const log = (options.logger ?? noopLogger).child({ component: 'session-watcher', role });
  const byKey = new Map<string, SessionInfo>();
  const upsert = (kv: KeyValue): void => {
    try {
      byKey.set(kv.key, decodeSessionInfo(kv.key, kv.value, kv.lease));
    } catch (e) {
      byKey.delete(kv.key);
      log.warn({ key: kv.key, err: (e as Error).message }, 'skipping undecodable session');
    }
  };
  const view = (revision: number): SessionView => {
    const sessions = new Map<bigint, SessionInfo>();
    for (const info of byKey.values()) sessions.set(info.serverId, info);
    return { revision, sessions };
  };
  const watchOptions = options.signal ? { signal: options.signal } : {};
  for await (const item of listAndWatch(kv, prefix, watchOptions)) {
    if (item.kind === 'snapshot') {
      byKey.clear();
      for (const entry of item.kvs) upsert(entry);
    } else {
      for (const event of item.events) {
        if (event.type === 'put') upsert(event.kv);
        else byKey.delete(event.kv.key);
      }
    }
    yield view(item.revision);
  }
}
