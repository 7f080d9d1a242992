/** The streaming node's session: registration once serving, graceful stop, self-fence and re-registration. */
export {
  NodeSession,
  type NodeSessionHooks,
  type NodeSessionOptions,
  type NodeSessionState,
  type SessionLossPolicy,
} from './node-session.js';
