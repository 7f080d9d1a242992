/**
 * The metadata store: the {@link MetaKV} contract, its etcd and embedded LevelDB
 * implementations, and {@link listAndWatch} for consumers that mirror a prefix.
 */
export {
  NO_LEASE,
  type Compare,
  type CompareOp,
  type KeyValue,
  type LeaseGrant,
  type MetaKV,
  type MetaWatch,
  type RangeOptions,
  type RangeResult,
  type TxnOp,
  type TxnRequest,
  type TxnResult,
  type WatchBatch,
  type WatchEvent,
  type WatchEventType,
  type WatchOptions,
} from './meta-kv.js';
export { EtcdMetaKV, DEFAULT_ETCD_REQUEST_TIMEOUT_MS, type EtcdMetaKVOptions } from './etcd-meta-kv.js';
export type { EtcdWatchTuning } from './etcd-watch.js';
export {
  LevelMetaKV,
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_WATCH_QUEUE_LIMIT,
  type LevelMetaKVOptions,
} from './level-meta-kv.js';
export { listAndWatch, type ListAndWatchItem, type ListAndWatchOptions } from './list-and-watch.js';
export { MAX_TXN_OPS } from './validate-txn.js';
export { prefixEnd } from './key-range.js';
export { openMetaStore, type MetaStoreSpec, type OpenedMetaStore } from './open-meta-store.js';
