/**
 * Process sessions in the meta store (Milvus `sessionutil`): server ids, lease-backed
 * registration with self-fencing, and a watch of a role's live sessions.
 */
export { Session, type SessionOptions, type SessionState } from './session.js';
export { watchSessions, type SessionView, type WatchSessionsOptions } from './session-watcher.js';
export { allocateServerId } from './server-id.js';
export { decodeSessionInfo, encodeSessionInfo, type SessionInfo } from './session-info.js';
export {
  STREAMING_COORD_ROLE,
  STREAMING_NODE_ROLE,
  serverIdCounterKey,
  sessionKey,
  sessionRolePrefix,
} from './session-keys.js';
