/**
 * The interceptor contract of the node's WAL (Milvus `interceptors.Interceptor`,
 * reference/milvus-node.md §3.1): every append runs through an onion of interceptors (lock,
 * time tick + txn, …) before the backend writes it. Interceptors talk to each other and to the
 * WAL adaptor only through the {@link AppendContext} of the append.
 */
import type { ImmutableMessage, MessageId, MutableMessage, TxnContext } from '../../../shared/index.js';

/**
 * What interceptors learn while an append runs and the WAL returns with the id (Milvus
 * `ExtraAppendResult`): filled by the time tick interceptor, read by the adaptor once the chain
 * resolved.
 */
export interface ExtraAppendResult {
  /** The time tick stamped on the message (`_tt`). */
  timeTick?: bigint;
  /** The last confirmed id stamped on the message (`_lc`). */
  lastConfirmedMessageId?: MessageId;
  /** The transaction of the message (the new one for BeginTxn). */
  txnContext?: TxnContext;
}

/**
 * Marks an append that must not reach the backend (Milvus `NotPersistedHint`): the not-persisted
 * time ticks of an idle WAL. The innermost append returns {@link messageId} instead of writing.
 */
export interface NotPersistedHint {
  /** The id the append reports: the time tick's last confirmed id. */
  readonly messageId: MessageId;
}

/** The per-append context handed down the chain (Go's `ctx` values of the append). */
export interface AppendContext {
  /** The caller's cancellation; waits inside interceptors (locks, txn commit) honour it. */
  readonly signal: AbortSignal | undefined;
  /** Set for not-persisted time ticks only. */
  readonly notPersisted: NotPersistedHint | undefined;
  /** Filled by interceptors; emptied before every redo attempt. */
  readonly result: ExtraAppendResult;
}

/** Options of {@link newAppendContext}. */
export interface AppendContextOptions {
  readonly signal?: AbortSignal | undefined;
  readonly notPersisted?: NotPersistedHint | undefined;
}

/** A context for one append, with an empty result. */
export function newAppendContext(options: AppendContextOptions = {}): AppendContext {
  return { signal: options.signal, notPersisted: options.notPersisted, result: {} };
}

/**
 * The next layer of the onion; the innermost one writes to the backend. Resolves with the message
 * as stored (its `messageId` is where the WAL put it); for a not-persisted append, the message
 * paired with the hint's id.
 */
export type AppendFn = (message: MutableMessage, ctx: AppendContext) => Promise<ImmutableMessage>;

/**
 * One layer of the append path.
 *
 * Rules (Milvus `interceptor.go`): `doAppend` calls `next` at most once per call (the redo
 * interceptor aside) and passes the message it wants appended; work after a successful `next`
 * must not fail, because the message is already in the WAL; `ctx.result` is written only before
 * the returned promise settles (the chain empties it for a redo).
 */
export interface Interceptor {
  /** For logs and metrics. */
  readonly name: string;
  /**
   * Resolves once the interceptor can take appends; appends wait for every interceptor's
   * readiness (readers do not). Absent = always ready.
   */
  ready?(): Promise<void>;
  doAppend(message: MutableMessage, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage>;
  /** Called before the WAL starts rejecting appends (e.g. let open transactions finish). */
  gracefulClose?(): Promise<void>;
  /** Releases resources. Idempotent. */
  close(): void | Promise<void>;
}
