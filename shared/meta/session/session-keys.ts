/**
 * Session key layout, as Milvus `sessionutil`:
 * - `<root>/session/id`: the server-id counter (CAS-incremented, initialised to "1");
 * - `<root>/session/<role>-<serverId>`: one process's session, attached to its lease.
 */
export const SESSION_ID_COUNTER = 'session/id';

/** Role of streaming nodes (Milvus `typeutil.StreamingNodeRole`). */
export const STREAMING_NODE_ROLE = 'streamingnode';
/** Role of the streaming coordinator. */
export const STREAMING_COORD_ROLE = 'streamingcoord';

function trimRoot(rootPath: string): string {
  return rootPath.replace(/\/+$/, '');
}

export function serverIdCounterKey(rootPath: string): string {
  return `${trimRoot(rootPath)}/${SESSION_ID_COUNTER}`;
}

/** Prefix that every session of a role starts with (`<root>/session/<role>-`). */
export function sessionRolePrefix(rootPath: string, role: string): string {
  return `${trimRoot(rootPath)}/session/${role}-`;
}

export function sessionKey(rootPath: string, role: string, serverId: bigint): string {
  return `${sessionRolePrefix(rootPath, role)}${serverId}`;
}
