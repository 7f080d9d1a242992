/** Transactions through the lock and time tick interceptors of a small WAL. */
import { afterEach, describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { type ImmutableMessage, MessageType, type MutableMessage, txnContext } from '../../../../../shared/message/index.js';
import {
  beginTxn,
  commitTxn,
  ddl,
  expectCode,
  insert,
  isSettled,
  openTestWal,
  rollbackTxn,
  type TestWal,
  turn,
  txnBody,
  V1,
  V2,
} from './fixtures.js';

let wal: TestWal | undefined;
afterEach(async () => {
  await wal?.close();
  wal = undefined;
});

const open = async (...args: Parameters<typeof openTestWal>): Promise<TestWal> => {
  wal = await openTestWal(...args);
  return wal;
};

describe('transactions through the interceptors', () => {
  it('begin → bodies → commit: every message carries the txn context, the result returns it', async () => {
    const w = await open();
    const begun = await w.append(beginTxn(V1, 5_000));
    const txn = begun.result.txnContext;
    expect(txn?.keepaliveMs).toBe(5_000n);
    expect(txn?.txnId).toBe(begun.result.timeTick); // the id is the BeginTxn's tick
    const body = await w.append(txnBody(txn));
    expect(body.result.txnContext).toEqual(txn);
    const committed = await w.append(commitTxn(txn));
    expect(committed.result.txnContext).toEqual(txn);
    expect(w.txns.getSessionOfTxn(txn!.txnId).state).toBe('committed');

    const stored = (await w.readAll()).filter((m) => m.txnContext !== undefined);
    expect(stored.map((m) => m.messageType)).toEqual([MessageType.BeginTxn, MessageType.Insert, MessageType.CommitTxn]);
    for (const m of stored) expect(m.txnContext).toEqual(txn);
    await w.operator.sync();
    expect(w.txns.sessionCount).toBe(0);
  });

  it('a BeginTxn asking for 0 ms gets the default keepalive', async () => {
    const w = await open({ txn: { defaultKeepaliveMs: 1_234n } });
    const { result } = await w.append(beginTxn(V1, 0));
    expect(result.txnContext?.keepaliveMs).toBe(1_234n);
  });

  it('commit waits for the bodies still in flight', async () => {
    const w = await open();
    const txn = (await w.append(beginTxn())).result.txnContext;
    w.gate.hold((m) => m.messageType === MessageType.Insert);
    const body = w.append(txnBody(txn));
    while (w.gate.parkedCount < 1) await turn();
    w.gate.stopHolding();
    const commit = w.append(commitTxn(txn));
    expect(await isSettled(commit)).toBe(false);
    // A body arriving once the commit started is refused.
    await expectCode(w.append(txnBody(txn)), StreamingCode.INVALID_TRANSACTION_STATE);
    w.gate.releaseAll();
    const bodyId = (await body).id;
    const commitId = (await commit).id;
    expect(commitId.gt(bodyId)).toBe(true);
  });

  it('rollback ends the transaction; later messages of it are refused', async () => {
    const w = await open();
    const txn = (await w.append(beginTxn())).result.txnContext;
    await w.append(txnBody(txn));
    await w.append(rollbackTxn(txn));
    await expectCode(w.append(commitTxn(txn)), StreamingCode.INVALID_TRANSACTION_STATE);
    await w.operator.sync();
    await expectCode(w.append(txnBody(txn)), StreamingCode.TRANSACTION_EXPIRED);
  });

  it('expiry: a body past lastTimeTick + keepalive is TRANSACTION_EXPIRED, and stays so', async () => {
    const w = await open();
    const txn = (await w.append(beginTxn(V1, 10))).result.txnContext;
    w.clock.advance(5);
    await w.append(txnBody(txn)); // refreshes the lease to now
    w.clock.advance(9);
    await w.append(txnBody(txn));
    w.clock.advance(10);
    await expectCode(w.append(txnBody(txn)), StreamingCode.TRANSACTION_EXPIRED);
    await expectCode(w.append(commitTxn(txn)), StreamingCode.TRANSACTION_EXPIRED);
    // The refused appends released their ticks: the WAL goes on.
    await w.operator.sync();
    expect(w.acks.unacknowledgedCount).toBe(0);
  });

  it('unknown transactions are TRANSACTION_EXPIRED; other mistakes are INVAILD_ARGUMENT', async () => {
    const w = await open();
    await expectCode(w.append(txnBody(txnContext(12345, 1_000))), StreamingCode.TRANSACTION_EXPIRED);
    const txn = (await w.append(beginTxn(V1))).result.txnContext;
    await expectCode(w.append(txnBody(txn, V2)), StreamingCode.INVAILD_ARGUMENT);
    await expectCode(w.append(commitTxn(txn, V2)), StreamingCode.INVAILD_ARGUMENT);
    await expectCode(w.append(commitTxn(undefined)), StreamingCode.INVAILD_ARGUMENT);
    // None of that hurt the transaction.
    await w.append(txnBody(txn));
    await w.append(commitTxn(txn));
    // An exclusive type cannot join a transaction (its lock release would fail it anyway).
    const other = (await w.append(beginTxn(V1))).result.txnContext;
    await expectCode(w.append(ddl(V1).withTxnContext(other!)), StreamingCode.INVAILD_ARGUMENT);
    await expectCode(w.append(commitTxn(other)), StreamingCode.TRANSACTION_EXPIRED);
  });

  it('an exclusive message fails the open transactions of its vchannel only', async () => {
    const w = await open();
    const onV1 = (await w.append(beginTxn(V1))).result.txnContext;
    const onV2 = (await w.append(beginTxn(V2))).result.txnContext;
    await w.append(ddl(V1));
    await expectCode(w.append(txnBody(onV1)), StreamingCode.TRANSACTION_EXPIRED);
    await expectCode(w.append(commitTxn(onV1)), StreamingCode.TRANSACTION_EXPIRED);
    await w.append(txnBody(onV2, V2));
    await w.append(commitTxn(onV2, V2));
  });

  it('a pchannel-wide exclusive message fails every open transaction', async () => {
    const w = await open();
    const onV1 = (await w.append(beginTxn(V1))).result.txnContext;
    const onV2 = (await w.append(beginTxn(V2))).result.txnContext;
    await w.append(ddl());
    await expectCode(w.append(commitTxn(onV1)), StreamingCode.TRANSACTION_EXPIRED);
    await expectCode(w.append(commitTxn(onV2, V2)), StreamingCode.TRANSACTION_EXPIRED);
  });

  it('a BeginTxn that fails to append leaves a finished session behind', async () => {
    const w = await open();
    w.gate.hold((m) => m.messageType === MessageType.BeginTxn);
    const begin = w.append(beginTxn());
    while (w.gate.parkedCount < 1) await turn();
    w.gate.failParked(new Error('disk full'));
    await expect(begin).rejects.toThrow('disk full');
    expect(w.txns.sessionCount).toBe(1);
    await w.operator.sync();
    expect(w.txns.sessionCount).toBe(0);
  });

  it('a backend write the chain retries: acker and transaction learn only the outcome that stuck', async () => {
    const retried: string[] = [];
    let gate: TestWal['gate'] | undefined;
    const w = await open({
      retryAppend: (message: MutableMessage, _ctx, error): Promise<ImmutableMessage> => {
        retried.push(`${message.messageType} ${(error as Error).message}`);
        return (gate as TestWal['gate']).append(message);
      },
    });
    gate = w.gate;
    /** Appends `message`, failing its first backend write. */
    const appendFailingOnce = async (message: MutableMessage): ReturnType<TestWal['append']> => {
      w.gate.hold(() => true);
      const appended = w.append(message);
      while (w.gate.parkedCount < 1) await turn();
      w.gate.stopHolding();
      w.gate.failParked(StreamingError.inner('disk hiccup'));
      return appended;
    };
    const begun = await appendFailingOnce(beginTxn());
    const txn = begun.result.txnContext;
    expect(txn?.txnId).toBe(begun.result.timeTick);
    // Had the BeginTxn's step learnt the failure, the session would be rolled back by now.
    await appendFailingOnce(txnBody(txn));
    await appendFailingOnce(insert(V2));
    const committed = await w.append(commitTxn(txn));
    expect(committed.result.txnContext).toEqual(txn);
    expect(retried).toEqual([MessageType.BeginTxn, MessageType.Insert, MessageType.Insert].map((t) => `${t} disk hiccup`));
    expect(w.acks.unacknowledgedCount).toBe(0);
    const kinds = (await w.acks.syncAndGetAcknowledged()).details.map((d) => d.kind).filter((k) => k !== 'sync');
    expect(kinds).toEqual(['success', 'success', 'success', 'success']);
  });

  it('graceful close refuses new transactions and waits, bounded, for the open ones', async () => {
    const w = await open({ gracefulCloseTimeoutMs: 20 });
    const txn = (await w.append(beginTxn())).result.txnContext;
    const closing = w.chain.gracefulClose();
    await expectCode(w.append(beginTxn()), StreamingCode.TRANSACTION_EXPIRED);
    // The open transaction can still finish; the next time tick lets the close complete.
    await w.append(commitTxn(txn));
    await w.operator.sync();
    await closing;
    expect(w.txns.sessionCount).toBe(0);

    // With a transaction that never ends, the close gives up after the timeout.
    const w2 = await openTestWal({ gracefulCloseTimeoutMs: 20 });
    try {
      await w2.append(beginTxn());
      await w2.chain.gracefulClose();
      expect(w2.txns.sessionCount).toBe(1);
    } finally {
      await w2.close();
    }
  });
});
