/** Go `txn/TestSession`, plus the transitions and failure paths around it. */
import { describe, expect, it } from 'vitest';
import { TxnManager, TxnSession } from '../../../../../node/wal/interceptors/index.js';
import { StreamingCode } from '../../../../../shared/errors/index.js';
import { txnContext } from '../../../../../shared/message/index.js';
import { addPhysicalMs, composeTs, MAX_TS } from '../../../../../shared/tso/index.js';
import { expectCode, expectThrowsCode, isSettled, V1 } from './fixtures.js';

const T0 = composeTs(1_700_000_000_000, 0);
const EXPIRED = addPhysicalMs(T0, 10);
const begin = (m: TxnManager, keepaliveMs = 10n, timeTick = T0): TxnSession => m.beginNewTxn({ vchannel: V1, timeTick, keepaliveMs });

describe('TxnSession (Go TestSession)', () => {
  it('begin then rollback at begin', () => {
    const session = begin(new TxnManager());
    expect(session.state).toBe('begin');
    expect(session.isExpiredOrDone(T0)).toBe(false);
    expect(session.isExpiredOrDone(EXPIRED - 1n)).toBe(false);
    expect(session.isExpiredOrDone(EXPIRED)).toBe(true);
    session.beginRollback();
    expect(session.state).toBe('rollbacked');
    expect(session.isExpiredOrDone(T0)).toBe(true);
  });

  it('expires at lastTimeTick + keepalive and stays expired for any later tick', () => {
    const session = begin(new TxnManager());
    session.beginDone();
    expect(session.state).toBe('inFlight');
    expect(session.isExpiredOrDone(T0)).toBe(false);
    expectThrowsCode(() => session.addNewMessage(EXPIRED), StreamingCode.TRANSACTION_EXPIRED);
    // Expired once, expired forever: even an operation with an older tick fails.
    expectThrowsCode(() => session.addNewMessage(T0), StreamingCode.TRANSACTION_EXPIRED);
    expect(session.isExpiredOrDone(T0)).toBe(true);
  });

  it('a successful body refreshes the lease, a failed one does not', () => {
    const session = begin(new TxnManager());
    session.beginDone();
    const t5 = addPhysicalMs(T0, 5);
    session.addNewMessage(t5);
    session.addNewMessageFail();
    expect(session.expiredTimeTick).toBe(EXPIRED);
    session.addNewMessage(t5);
    session.addNewMessageDoneAndKeepalive(t5);
    expect(session.expiredTimeTick).toBe(addPhysicalMs(t5, 10));
    // Older ticks never move the lease back.
    session.addNewMessage(t5 + 1n);
    session.addNewMessageDoneAndKeepalive(T0);
    expect(session.lastTimeTick).toBe(t5);
    session.addNewMessage(EXPIRED);
    session.addNewMessageDoneAndKeepalive(EXPIRED);
  });

  it('commit waits for the bodies in flight, then commits', async () => {
    const session = begin(new TxnManager());
    session.beginDone();
    session.addNewMessage(T0);
    session.addNewMessage(T0 + 1n);
    const commit = session.requestCommitAndWait(T0 + 2n);
    expect(session.state).toBe('onCommit');
    expect(await isSettled(commit)).toBe(false);
    session.addNewMessageDoneAndKeepalive(T0);
    expect(await isSettled(commit)).toBe(false);
    session.addNewMessageFail();
    await commit;
    // onCommit is not done: its cleanups must wait for the commit to be appended.
    expect(session.isExpiredOrDone(T0 + 3n)).toBe(false);
    session.commitDone();
    expect(session.state).toBe('committed');
    expect(session.isExpiredOrDone(T0)).toBe(true);
  });

  it('a commit whose wait is aborted fails with the abort reason and leaves the session onCommit', async () => {
    const session = begin(new TxnManager());
    session.beginDone();
    session.addNewMessage(T0);
    const ac = new AbortController();
    const commit = session.requestCommitAndWait(T0, { signal: ac.signal });
    ac.abort(new Error('deadline exceeded'));
    await expect(commit).rejects.toThrow('deadline exceeded');
    expect(session.state).toBe('onCommit');
    // Commit after expiry: expired.
    await expectCode(session.requestCommitAndWait(EXPIRED), StreamingCode.TRANSACTION_EXPIRED);
  });

  it('rollback: expired, then success', async () => {
    const m = new TxnManager();
    const expired = begin(m);
    expired.beginDone();
    await expectCode(expired.requestRollback(EXPIRED), StreamingCode.TRANSACTION_EXPIRED);

    const session = begin(m, 10n, T0 + 1n);
    session.beginDone();
    await session.requestRollback(T0 + 1n);
    expect(session.state).toBe('onRollback');
    session.rollbackDone();
    expect(session.state).toBe('rollbacked');
  });

  it('wrong states fail with INVALID_TRANSACTION_STATE', async () => {
    const session = begin(new TxnManager());
    expectThrowsCode(() => session.addNewMessage(T0), StreamingCode.INVALID_TRANSACTION_STATE);
    await expectCode(session.requestCommitAndWait(T0), StreamingCode.INVALID_TRANSACTION_STATE);
    session.beginDone();
    expectThrowsCode(() => session.beginDone(), StreamingCode.INVALID_TRANSACTION_STATE);
    expectThrowsCode(() => session.commitDone(), StreamingCode.INVALID_TRANSACTION_STATE);
    await session.requestCommitAndWait(T0);
    expectThrowsCode(() => session.addNewMessage(T0), StreamingCode.INVALID_TRANSACTION_STATE);
    await expectCode(session.requestCommitAndWait(T0), StreamingCode.INVALID_TRANSACTION_STATE);
    await expectCode(session.requestRollback(T0), StreamingCode.INVALID_TRANSACTION_STATE);
    expectThrowsCode(() => session.rollbackDone(), StreamingCode.INVALID_TRANSACTION_STATE);
    session.commitDone();
    await expectCode(session.requestRollback(T0), StreamingCode.INVALID_TRANSACTION_STATE);
  });

  it('a failed session answers TRANSACTION_EXPIRED and counts as done', () => {
    const session = begin(new TxnManager());
    session.beginDone();
    session.fail('exclusive message');
    expect(session.isExpiredOrDone(T0)).toBe(true);
    const error = expectThrowsCode(() => session.addNewMessage(T0), StreamingCode.TRANSACTION_EXPIRED);
    expect(error.message).toContain('exclusive message');
  });

  it('runs cleanups exactly once and refuses them once done', () => {
    const session = begin(new TxnManager());
    let runs = 0;
    session.registerCleanup(() => runs++, T0);
    session.beginDone();
    session.cleanup();
    session.cleanup();
    expect(runs).toBe(1);
    const done = begin(new TxnManager(), 10n, T0);
    done.beginRollback();
    expectThrowsCode(() => done.registerCleanup(() => runs++, T0), StreamingCode.INVALID_TRANSACTION_STATE);
  });

  it('an infinite keepalive never expires', () => {
    const session = new TxnSession({ vchannel: V1, txnContext: txnContext(1, 2n ** 62n), timeTick: T0, state: 'inFlight' });
    expect(session.expiredTimeTick).toBe(MAX_TS);
    session.addNewMessage(addPhysicalMs(T0, 10 ** 12));
  });
});
