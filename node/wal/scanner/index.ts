/**
 * The read path of a WAL (reference/milvus-node.md §4): catch-up from the backend, tailing from the
 * write-ahead buffer, deliver filters, reorder by time tick, txn assembly, vchannel filter and a
 * bounded queue to the consumer. The WAL adaptor builds scanners with {@link createWalScanner}.
 */
export type { ScannerSource } from './scanner-source.js';
export { compileDeliverFilters, type MessagePredicate } from './deliver-filter.js';
export { DEFAULT_SCANNER_BACKOFF, isRetriableBackendError, type ScannerMode } from './mode-scanner.js';
export { ScanPipeline, type ScanPipelineOptions, type ScanPipelineStats } from './scan-pipeline.js';
export { SwitchableScanner, type SwitchableScannerOptions, type SwitchCounts } from './switchable-scanner.js';
export {
  createWalScanner,
  DEFAULT_PENDING_THRESHOLD,
  DEFAULT_SCANNER_READ_AHEAD,
  WalScannerAdaptor,
  type WalScannerStats,
  type WalScannerTuning,
} from './wal-scanner.js';
