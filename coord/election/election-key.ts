/**
 * Where the coordinators elect their active one, and what the winner writes there.
 *
 * The key is `<root>/session/streamingcoord`, Milvus's active-standby layout (Milvus keeps the
 * active coordinator under `<root>/session/<role>`, beside the per-process `<role>-<serverId>`
 * keys). Its value is the winner's session in Milvus `SessionRaw` JSON, so Milvus tooling that
 * reads sessions reads it too; it is attached to the winner's session lease, so it vanishes
 * when that lease is revoked or expires.
 *
 * Careful: a watch of this key as a *prefix* also sees every `<root>/session/streamingcoord-<id>`
 * session key, so readers filter on the exact key (see `watch-key.ts`).
 */
import { STREAMING_COORD_ROLE, decodeSessionInfo, sessionRolePrefix } from '../../shared/index.js';
import type { KeyValue } from '../../shared/index.js';

/** The active coordinator as the election key names it. */
export interface ElectionLeader {
  readonly serverId: bigint;
  /** `host:port` clients reach it at. */
  readonly address: string;
}

/** `<root>/session/streamingcoord` (root without trailing slashes). */
export function coordinatorElectionKey(rootPath: string): string {
  // sessionRolePrefix is `<root>/session/<role>-`; the election key is the same without the dash.
  return sessionRolePrefix(rootPath, STREAMING_COORD_ROLE).slice(0, -1);
}

/**
 * The leader a stored election value names, or undefined for a value that does not decode (a
 * foreign writer's bug must not stop the election: such a value is treated as "someone unknown
 * holds it" and waited out like any other holder).
 */
export function decodeElectionLeader(kv: KeyValue): ElectionLeader | undefined {
  try {
    const info = decodeSessionInfo(kv.key, kv.value, kv.lease);
    return { serverId: info.serverId, address: info.address };
  } catch {
    return undefined;
  }
}
