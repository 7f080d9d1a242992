import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProto, encodeProto } from '../../../../shared/proto/codec.js';
import {
  isInfiniteKeepalive,
  MAX_INT64,
  MIN_INT64,
  NON_TXN_ID,
  TXN_KEEPALIVE_INFINITE_MS,
  txnContext,
  txnContextEquals,
  txnContextFromProto,
  txnContextToProto,
  TxnState,
  txnStateName,
} from '../../../../shared/message/index.js';
import { expectInvalid } from './expect-invalid.js';

describe('TxnContext', () => {
  it('uses Milvus constants', () => {
    expect(NON_TXN_ID).toBe(-1n);
    expect(TXN_KEEPALIVE_INFINITE_MS).toBe(9_223_372_036_854n);
    expect(isInfiniteKeepalive(txnContext(1n, TXN_KEEPALIVE_INFINITE_MS))).toBe(true);
    expect(isInfiniteKeepalive(txnContext(1n, 10_000))).toBe(false);
  });

  it('has the TxnState numbers of messages.proto', () => {
    expect([TxnState.TxnUnknown, TxnState.TxnInFlight, TxnState.TxnOnCommit, TxnState.TxnCommitted, TxnState.TxnOnRollback, TxnState.TxnRollbacked]).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    expect(txnStateName(TxnState.TxnCommitted)).toBe('TxnCommitted');
  });

  it('round-trips through the proto', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MIN_INT64, max: MAX_INT64 }), fc.bigInt({ min: 0n, max: MAX_INT64 }), (id, keepalive) => {
        const ctx = txnContext(id, keepalive);
        const bytes = encodeProto('milvus.proto.messages.TxnContext', txnContextToProto(ctx));
        const back = txnContextFromProto(decodeProto('milvus.proto.messages.TxnContext', bytes));
        expect(txnContextEquals(back, ctx)).toBe(true);
      }),
    );
    expect(txnContextFromProto({ txn_id: 5, keepalive_milliseconds: '7' })).toEqual({ txnId: 5n, keepaliveMs: 7n });
    expect(txnContextFromProto({})).toEqual({ txnId: 0n, keepaliveMs: 0n });
    expect(txnContextEquals(undefined, undefined)).toBe(true);
    expect(txnContextEquals(txnContext(1, 1), undefined)).toBe(false);
  });

  it('rejects bad values', () => {
    expectInvalid(() => txnContext(1n, -1n), 'txn keepalive');
    expectInvalid(() => txnContext(MAX_INT64 + 1n, 1n), 'txn id');
    expectInvalid(() => txnContext(0.5, 1), 'txn id');
    expectInvalid(() => txnContextFromProto({ txn_id: 'abc' }), '_tx.txn_id');
    expectInvalid(() => txnContextFromProto({ txn_id: '9223372036854775808' }), '_tx.txn_id');
  });
});
