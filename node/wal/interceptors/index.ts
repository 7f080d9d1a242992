/**
 * The append path of the node's WAL (reference/milvus-node.md §3): the interceptor chain and its
 * interceptors (lock; time tick with transactions), and the time tick emission.
 *
 * @example Wiring at WAL open (what the adaptor does; see the interceptor tests' fixture):
 * ```ts
 * const first = await appendFirstTimeTick(backend, tso, { checkpointId, signal });
 * const uncommitted = recoveredTxnBuffer.uncommittedBuilders();
 * const acks = new AckManager({ tso, lastConfirmedTimeTick: first.timeTick,
 *   lastConfirmedMessageId: recoveryLastConfirmed(first, uncommitted) });
 * const wab = new WriteAheadBuffer({ capacityBytes, keepaliveMs, firstTimeTickMessage: first });
 * const txns = new TxnManager({ uncommitted, logger });
 * const operator = new TimeTickSyncOperator({ ackManager: acks, writeAheadBuffer: wab,
 *   idleIntervalMs: config.wal.timeTickIntervalMs,
 *   appendTimeTick: (m, { notPersisted, signal }) => wal.appendThroughChain(m, newAppendContext({ notPersisted, signal })) });
 * const chain = new InterceptorChain({
 *   interceptors: [new LockInterceptor({ txnManager: txns }), new TimeTickInterceptor({ ackManager: acks, txnManager: txns, operator })],
 *   append: (m) => appender.attempt(m),
 *   retryAppend: (m, ctx, error) => appender.retry(m, ctx.signal, error),
 * });
 * operator.start(); // once `wal.appendThroughChain` can be called
 * // close: chain.gracefulClose() … backend.close() … chain.close() (closes operator, WAB, ack manager)
 * ```
 */
export {
  AppendContext,
  type AppendContextOptions,
  type ExtraAppendResult,
  newAppendContext,
  type NotPersistedHint,
  type SettleHook,
  type SettleHookFailure,
} from './append-context.js';
export { type AppendFn, type Interceptor } from './interceptor.js';
export { type AppendOutcome, type BackendRetry, InterceptorChain, type InterceptorChainOptions } from './chain.js';
export { isRedoAppendError, RedoAppendError } from './redo.js';
export { KeyedRwLock, type LockOptions, type Release, RwLock } from './rw-lock.js';
export { LockInterceptor, type LockInterceptorOptions, type TxnFailer } from './lock-interceptor.js';
export * from './txn/index.js';
export * from './timetick/index.js';
