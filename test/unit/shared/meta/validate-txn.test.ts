import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import type { TxnOp, TxnRequest } from '../../../../shared/meta/index.js';
import { MAX_TXN_OPS, validateRangeOptions, validateTxn } from '../../../../shared/meta/validate-txn.js';

function codeOf(fn: () => void): StreamingCode | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: StreamingCode }).code;
  }
}

const txn = (success: TxnOp[], extra: Partial<TxnRequest> = {}): TxnRequest => ({ compares: [], success, ...extra });

describe('validateTxn (etcd checkTxnRequest rules)', () => {
  it('accepts distinct puts, repeated deletes and gets of written keys', () => {
    expect(
      codeOf(() =>
        validateTxn(
          txn([
            { type: 'put', key: 'a', value: '1' },
            { type: 'put', key: 'b', value: '1', lease: '42' },
            { type: 'delete', key: 'c' },
            { type: 'deletePrefix', prefix: 'c' },
            { type: 'get', key: 'a' },
          ]),
        ),
      ),
    ).toBeUndefined();
  });

  it('rejects a key put twice, or put and deleted, in one branch', () => {
    expect(codeOf(() => validateTxn(txn([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'a', value: '2' }])))).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(codeOf(() => validateTxn(txn([{ type: 'delete', key: 'a' }, { type: 'put', key: 'a', value: '2' }])))).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(codeOf(() => validateTxn(txn([{ type: 'put', key: 'p/x', value: '2' }, { type: 'deletePrefix', prefix: 'p/' }])))).toBe(StreamingCode.INVAILD_ARGUMENT);
    // The same key in the two branches is fine: only one runs.
    expect(codeOf(() => validateTxn(txn([{ type: 'put', key: 'a', value: '1' }], { failure: [{ type: 'put', key: 'a', value: '2' }] })))).toBeUndefined();
  });

  it('rejects empty keys, bad lease ids, bad compare values and oversized branches', () => {
    expect(codeOf(() => validateTxn(txn([{ type: 'put', key: '', value: '1' }])))).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(codeOf(() => validateTxn(txn([{ type: 'put', key: 'a', value: '1', lease: '-1' }])))).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(codeOf(() => validateTxn(txn([], { compares: [{ key: 'a', target: 'version', op: '==', value: -1 }] })))).toBe(StreamingCode.INVAILD_ARGUMENT);
    const many: TxnOp[] = Array.from({ length: MAX_TXN_OPS + 1 }, (_, i) => ({ type: 'get', key: `k${i}` }));
    expect(codeOf(() => validateTxn(txn(many)))).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(codeOf(() => validateTxn(txn(many.slice(0, MAX_TXN_OPS))))).toBeUndefined();
  });

  it('checks range options', () => {
    expect(codeOf(() => validateRangeOptions({ limit: 1.5 }))).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(codeOf(() => validateRangeOptions({ revision: 0 }))).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(codeOf(() => validateRangeOptions({ limit: 10, revision: 5 }))).toBeUndefined();
  });
});
