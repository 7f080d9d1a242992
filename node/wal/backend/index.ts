/**
 * The WAL backend layer (Milvus `walimpls`): the contract, the LevelDB backend used in
 * production, and an in-memory backend for tests. See `wal-backend.ts` for the contract.
 */
export {
  type BackendScanner,
  DEFAULT_READ_AHEAD_BUFFER_SIZE,
  type OpenBackendOptions,
  type ReadBackendOptions,
  ROCKSMQ_WAL_NAME,
  type WalBackend,
  type WalBackendName,
  type WalBackendOpener,
} from './wal-backend.js';
export {
  DEFAULT_WRITE_BUFFER_SIZE,
  LevelWalBackendOpener,
  type LevelWalBackendOpenerOptions,
} from './level-wal-backend-opener.js';
export { levelBinding, type LevelBindingInfo } from './level-binding.js';
export { MemoryWalBackendOpener, type MemoryWalBackendOpenerOptions } from './memory-wal-backend-opener.js';
export {
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_MESSAGES,
  DEFAULT_TAIL_CACHE_BYTES,
  DEFAULT_TAIL_CACHE_MESSAGES,
  type StoreOpenerOptions,
} from './store-opener.js';
export { decodeRmqLayout, encodeRmqLayout, hasRmqMagic, RMQ_MAGIC, type RmqLayout } from './rmq-layout.js';
export { FIRST_OFFSET } from './storage-engine.js';
