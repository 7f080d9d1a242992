/**
 * The write side of a read-write WAL, assembled from the interceptor and utility pieces
 * (Milvus `buildInterceptorParams` + the interceptor builders; see the wiring example in
 * `interceptors/index.ts`).
 */
import type { ImmutableMessage, Logger, TsoAllocator } from '../../../shared/index.js';
import {
  type AppendFn,
  type BackendRetry,
  InterceptorChain,
  LockInterceptor,
  recoveryLastConfirmed,
  type TimeTickAppender,
  TimeTickInterceptor,
  TimeTickSyncOperator,
  TxnManager,
} from '../interceptors/index.js';
import { AckManager, type TxnMessageBuilder, WriteAheadBuffer } from '../utility/index.js';
import type { WalAdaptorConfig } from './wal-config.js';

/** What {@link buildAppendPipeline} needs. */
export interface AppendPipelineParams {
  readonly tso: TsoAllocator;
  /** The recovery barrier: seeds the ack manager, the write-ahead buffer and the MVCC tick. */
  readonly firstTimeTick: ImmutableMessage;
  /** Open transactions recovery found. */
  readonly uncommitted: readonly TxnMessageBuilder[];
  readonly config: WalAdaptorConfig;
  /** The node id, written into time tick bodies. */
  readonly sourceId: bigint;
  /** The WAL term, stamped as `_wt` on every message the time tick interceptor stamps. */
  readonly walTerm: bigint;
  /** The innermost append: one backend write. */
  readonly backendAppend: AppendFn;
  /** Retries a failed backend write (see `InterceptorChainOptions.retryAppend`). */
  readonly retryBackendAppend: BackendRetry;
  /** How the sync operator appends its time ticks: through the whole WAL. */
  readonly appendTimeTick: TimeTickAppender;
  readonly logger: Logger;
}

/** The pieces; the chain owns and closes the others (time tick interceptor → operator → WAB, acks). */
export interface AppendPipeline {
  readonly chain: InterceptorChain;
  readonly operator: TimeTickSyncOperator;
  readonly writeAheadBuffer: WriteAheadBuffer;
  readonly txnManager: TxnManager;
  readonly ackManager: AckManager;
}

/**
 * Builds, outermost first: lock → time tick (with transactions) → backend. The lock sits outside
 * the time tick interceptor so an exclusive message takes its tick while holding the lock.
 * Nothing runs until the caller starts the operator.
 *
 * @throws RangeError for invalid tuning.
 */
export function buildAppendPipeline(params: AppendPipelineParams): AppendPipeline {
  const { config, logger, firstTimeTick, uncommitted } = params;
  const ackManager = new AckManager({
    tso: params.tso,
    lastConfirmedTimeTick: firstTimeTick.timeTick,
    lastConfirmedMessageId: recoveryLastConfirmed(firstTimeTick, uncommitted),
  });
  const writeAheadBuffer = new WriteAheadBuffer({
    capacityBytes: config.wabCapacityBytes,
    keepaliveMs: config.wabKeepaliveMs,
    firstTimeTickMessage: firstTimeTick,
  });
  const txnManager = new TxnManager({
    uncommitted,
    defaultKeepaliveMs: config.txnDefaultKeepaliveMs,
    logger: logger.child({ component: 'txn-manager' }),
  });
  const operator = new TimeTickSyncOperator({
    ackManager,
    writeAheadBuffer,
    appendTimeTick: params.appendTimeTick,
    sourceId: params.sourceId,
    idleIntervalMs: config.timeTickIntervalMs,
    syncDelayMs: config.syncDelayMs,
    logger: logger.child({ component: 'time-tick-sync' }),
  });
  const timeTick = new TimeTickInterceptor({
    ackManager,
    txnManager,
    operator,
    gracefulCloseTimeoutMs: config.txnGracefulCloseTimeoutMs,
    walTerm: params.walTerm,
    logger,
  });
  const chain = new InterceptorChain({
    interceptors: [new LockInterceptor({ txnManager }), timeTick],
    append: params.backendAppend,
    retryAppend: params.retryBackendAppend,
    logger,
  });
  return { chain, operator, writeAheadBuffer, txnManager, ackManager };
}
