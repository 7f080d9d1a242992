/**
 * The interceptor contract of the node's WAL (Milvus `interceptors.Interceptor`,
 * reference/milvus-node.md §3.1): every append runs through an onion of interceptors (lock,
 * time tick + txn, …) before the backend writes it. Interceptors talk to each other and to the
 * WAL adaptor only through the {@link AppendContext} of the append.
 */
import type { ImmutableMessage, MutableMessage } from '../../../shared/index.js';
import type { AppendContext } from './append-context.js';

// The context types belong to the contract; they live in their own file.
export type { AppendContext, ExtraAppendResult, NotPersistedHint, SettleHook } from './append-context.js';

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
 * interceptor aside) and passes the message it wants appended; `ctx.result` is written only
 * before the append settles (the chain empties it for a redo).
 *
 * Once it called `next`, `doAppend` returns `next`'s promise as is (or passes it on unchanged,
 * e.g. by returning it from an async function) and acts on the outcome only through a settle
 * hook (`ctx.onSettled`: release a lock, acknowledge a time tick, fill the result). A rejection
 * of `next`'s promise is not final: the chain may still retry a failed backend write, and the
 * hooks learn the outcome that stuck, innermost first, before the append settles to its caller.
 * Hooks must not fail: the message may already be in the WAL.
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
