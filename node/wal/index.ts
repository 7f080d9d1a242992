/**
 * The node's WAL (DESIGN.md §6 layers 2–5): what the node service and the WAL manager wiring use.
 *
 * @example
 * ```ts
 * const backendOpener = new LevelWalBackendOpener({ dataRoot, sync: config.wal.syncWrites });
 * const opener = new WalOpener({ backendOpener, tso, nodeId, config: walAdaptorOptionsFrom(config.wal), logger });
 * const manager = new WalManager({ opener, logger });            // node/wal-manager
 * await manager.open(pchannelInfo('by-dev-rootcoord-dml_0', 3n)); // Assign
 * const wal = manager.getAvailableWal(pchannelInfo('by-dev-rootcoord-dml_0', 3n));
 * const { messageId, timeTick } = await wal.append(message);
 * for await (const m of wal.read({ vchannel, deliverPolicy: deliverAll() })) {
 *   for (const part of isImmutableTxnMessage(m) ? m.flatten() : [m]) send(part);
 * }
 * // shutdown: manager.close() closes the WALs, then backendOpener.close()
 * ```
 */
export type { AppendResult, Wal, WalMetrics, WalReadOptions, WalScanner } from './wal.js';
export {
  DEFAULT_WAL_ADAPTOR_CONFIG,
  ReadOnlyWalAdaptor,
  resolveWalAdaptorConfig,
  WalAdaptor,
  type WalAdaptorConfig,
  type WalAdaptorOptions,
  walAdaptorOptionsFrom,
  WalOpener,
  type WalOpenerOptions,
} from './adaptor/index.js';
export {
  type BackendScanner,
  levelBinding,
  type LevelBindingInfo,
  LevelWalBackendOpener,
  type LevelWalBackendOpenerOptions,
  MemoryWalBackendOpener,
  type MemoryWalBackendOpenerOptions,
  type WalBackend,
  type WalBackendOpener,
} from './backend/index.js';
export {
  decodeWalCheckpoint,
  encodeWalCheckpoint,
  type RetentionResult,
  type WalCheckpoint,
} from './recovery/index.js';
export { type WalScannerAdaptor, type WalScannerStats } from './scanner/index.js';
export { ImmutableTxnMessage, isImmutableTxnMessage, type ScannedMessage } from './utility/index.js';
