/**
 * The coordinator's TSO: {@link PersistedTsoAllocator} (timestamps that never go back across
 * restarts and failover) and the persisted window it keeps in the meta store.
 */
export { PersistedTsoAllocator } from './persisted-tso-allocator.js';
export {
  DEFAULT_TSO_RENEW_BEFORE_MS,
  DEFAULT_TSO_RETRY_BACKOFF,
  DEFAULT_TSO_WAIT_TIMEOUT_MS,
  DEFAULT_TSO_WINDOW_MS,
  type PersistedTsoAllocatorOptions,
} from './tso-options.js';
export { TsoWindowStore, decodeTsoWindow, encodeTsoWindow, type TsoWindow, type TsoWindowExtendResult } from './tso-window.js';
