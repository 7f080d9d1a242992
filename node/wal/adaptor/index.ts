/**
 * The WAL adaptor (reference/milvus-node.md §2): the opener the WAL manager uses, and the
 * read-write and read-only WALs it builds on a backend.
 */
export { WalOpener, type WalOpenerOptions } from './wal-opener.js';
export { WalAdaptor, type WalAdaptorParams } from './wal-adaptor.js';
export { ReadOnlyWalAdaptor, type ReadOnlyWalAdaptorParams } from './ro-wal-adaptor.js';
export {
  DEFAULT_APPEND_BACKOFF,
  DEFAULT_WAB_CAPACITY_BYTES,
  DEFAULT_WAB_KEEPALIVE_MS,
  DEFAULT_WAL_ADAPTOR_CONFIG,
  resolveWalAdaptorConfig,
  type WalAdaptorConfig,
  type WalAdaptorOptions,
  walAdaptorOptionsFrom,
} from './wal-config.js';
export { AppendValidator, validateAppendMessage } from './message-validation.js';
export { BackendAppender, type BackendAppenderOptions } from './backend-appender.js';
export { ScannerRegistry, type ScannerRegistryOptions } from './scanner-registry.js';
export { InFlightCounter } from './in-flight-counter.js';
