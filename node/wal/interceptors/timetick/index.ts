/**
 * Time ticks of a WAL (reference/milvus-node.md §3.4): the interceptor stamping `_tt` / `_lc`
 * and driving transactions, the operator emitting TimeTick messages, and the first time tick
 * written at open.
 */
export {
  DEFAULT_TXN_GRACEFUL_CLOSE_TIMEOUT_MS,
  TimeTickInterceptor,
  type TimeTickInterceptorOptions,
} from './time-tick-interceptor.js';
export {
  DEFAULT_SYNC_DELAY_MS,
  type TimeTickAppender,
  TimeTickSyncOperator,
  type TimeTickSyncOperatorOptions,
  type TimeTickSyncStats,
} from './time-tick-sync-operator.js';
export { SyncScheduler, type SyncSchedulerOptions } from './sync-scheduler.js';
export {
  appendFirstTimeTick,
  FIRST_TIME_TICK_BACKOFF,
  type FirstTimeTickOptions,
  recoveryLastConfirmed,
} from './first-time-tick.js';
export { prepareTxn, type TxnStep } from './txn-step.js';
