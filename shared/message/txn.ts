import { StreamingError } from '../errors/index.js';
import { MAX_INT64 } from './base36.js';
import { int64FromProto } from './int64.js';

/**
 * The transaction a message belongs to (property `_tx`, proto `milvus.proto.messages.TxnContext`).
 * A transaction is BeginTxn → body messages → CommitTxn or RollbackTxn, all with the same `_tx`.
 */
export interface TxnContext {
  /** Allocated by the node when it appends BeginTxn; {@link NON_TXN_ID} outside a transaction. */
  readonly txnId: bigint;
  /**
   * How long the transaction stays alive without a new message, in milliseconds of the time
   * tick's physical clock. {@link TXN_KEEPALIVE_INFINITE_MS} never expires.
   */
  readonly keepaliveMs: bigint;
}

/** The txn id of a message outside any transaction (Milvus `NonTxnID`). */
export const NON_TXN_ID = -1n;

/**
 * Keepalive of a transaction that never expires (used for transactions replicated from another
 * cluster). Milvus keeps the keepalive as a Go `time.Duration`; this is the largest whole number of
 * milliseconds such a duration holds (⌊(2^63 - 1) / 10^6⌋), so it survives the millisecond proto
 * field unchanged. Any keepalive at or above it counts as infinite.
 */
export const TXN_KEEPALIVE_INFINITE_MS = MAX_INT64 / 1_000_000n;

/** Smallest keepalive a BeginTxn may ask for (Milvus rejects anything under 1 ms). */
export const MIN_TXN_KEEPALIVE_MS = 1n;

/** Default keepalive when BeginTxn asks for 0 (Milvus `streaming.txn.defaultKeepaliveTimeout`). */
export const DEFAULT_TXN_KEEPALIVE_MS = 10_000n;

/** `milvus.proto.messages.TxnState`, numbers as in the proto. */
export enum TxnState {
  TxnUnknown = 0,
  TxnInFlight = 1,
  TxnOnCommit = 2,
  TxnCommitted = 3,
  TxnOnRollback = 4,
  TxnRollbacked = 5,
}

/**
 * The proto shape of a TxnContext for encoding (`longs: String`); zero fields are left out so the
 * bytes match Go's `proto.Marshal`.
 */
export interface TxnContextProto {
  txn_id?: string;
  keepalive_milliseconds?: string;
}

/** Builds a TxnContext, validating both fields. */
export function txnContext(txnId: bigint | number, keepaliveMs: bigint | number): TxnContext {
  const id = toBigInt(txnId, 'txn id');
  const keepalive = toBigInt(keepaliveMs, 'txn keepalive');
  if (keepalive < 0n) throw StreamingError.invalidArgument('txn keepalive', `must not be negative, got ${keepalive}`);
  return Object.freeze({ txnId: id, keepaliveMs: keepalive });
}

/** True if the keepalive never expires. */
export function isInfiniteKeepalive(ctx: TxnContext): boolean {
  return ctx.keepaliveMs >= TXN_KEEPALIVE_INFINITE_MS;
}

/** Converts to the proto shape (zero fields omitted). */
export function txnContextToProto(ctx: TxnContext): TxnContextProto {
  const proto: TxnContextProto = {};
  if (ctx.txnId !== 0n) proto.txn_id = ctx.txnId.toString();
  if (ctx.keepaliveMs !== 0n) proto.keepalive_milliseconds = ctx.keepaliveMs.toString();
  return proto;
}

/** Reads a decoded proto TxnContext (int64 fields as strings, numbers or Longs). */
export function txnContextFromProto(proto: { txn_id?: unknown; keepalive_milliseconds?: unknown }, field = '_tx'): TxnContext {
  return Object.freeze({
    txnId: int64FromProto(proto.txn_id, `${field}.txn_id`),
    keepaliveMs: int64FromProto(proto.keepalive_milliseconds, `${field}.keepalive_milliseconds`),
  });
}

/** Value equality of two contexts. */
export function txnContextEquals(a: TxnContext | undefined, b: TxnContext | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.txnId === b.txnId && a.keepaliveMs === b.keepaliveMs;
}

/** The proto enum name of a state (`TxnInFlight`). */
export function txnStateName(state: TxnState): string {
  return TxnState[state] ?? `TxnState(${state})`;
}

function toBigInt(value: bigint | number, field: string): bigint {
  if (typeof value === 'bigint') {
    if (value < -MAX_INT64 - 1n || value > MAX_INT64) throw StreamingError.invalidArgument(field, `${value} overflows int64`);
    return value;
  }
  if (!Number.isSafeInteger(value)) throw StreamingError.invalidArgument(field, `must be an integer, got ${value}`);
  return BigInt(value);
}
