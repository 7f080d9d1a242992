/** Go `txn/TestManager`, plus ids, failing by vchannel and recovery. */
import { describe, expect, it } from 'vitest';
import { TxnManager } from '../../../../../node/wal/interceptors/index.js';
import { TxnMessageBuilder } from '../../../../../node/wal/utility/index.js';
import { StreamingCode } from '../../../../../shared/errors/index.js';
import {
  DEFAULT_TXN_KEEPALIVE_MS,
  type ImmutableMessage,
  MessageId,
  MessageType,
  newBeginTxnMessage,
  newUserMessage,
  type TxnContext,
  txnContext,
} from '../../../../../shared/message/index.js';
import { addPhysicalMs, composeTs } from '../../../../../shared/tso/index.js';
import { expectCode, expectThrowsCode, isSettled, V1, V2 } from './fixtures.js';

const T0 = composeTs(1_700_000_000_000, 0);

describe('TxnManager (Go TestManager)', () => {
  it('graceful close blocks until cleanup removes every expired or finished session; cleanups run once', async () => {
    const m = new TxnManager();
    let live = 20;
    for (let i = 0; i < 20; i++) {
      const created = m.beginNewTxn({ vchannel: V1, timeTick: T0 + BigInt(i), keepaliveMs: BigInt(i + 1) });
      created.beginDone();
      const session = m.getSessionOfTxn(created.txnId);
      expect(session).toBe(created);
      session.registerCleanup(() => live--, T0);
      if (i % 3 === 0) {
        await session.requestCommitAndWait(T0 + 100n);
        session.commitDone();
      } else if (i % 3 === 1) {
        await session.requestRollback(T0 + 100n);
        session.rollbackDone();
      }
    }
    const closed = m.gracefulClose();
    expect(await isSettled(closed)).toBe(false);

    m.cleanupTxnUntil(addPhysicalMs(T0, 10));
    expect(await isSettled(closed)).toBe(false);
    expect(m.sessionCount).toBe(3); // keepalives 12, 15 and 18 ms are still alive

    m.cleanupTxnUntil(addPhysicalMs(T0, 20));
    expect(await isSettled(closed)).toBe(true);
    expect(live).toBe(0);
    expect(m.sessionCount).toBe(0);
  });

  it('refuses new transactions once closing; graceful close honours its signal', async () => {
    const m = new TxnManager();
    m.beginNewTxn({ vchannel: V1, timeTick: T0, keepaliveMs: 0n }).beginDone();
    const ac = new AbortController();
    const closing = m.gracefulClose({ signal: ac.signal });
    expect(m.isClosing).toBe(true);
    expectThrowsCode(() => m.beginNewTxn({ vchannel: V1, timeTick: T0 + 1n, keepaliveMs: 0n }), StreamingCode.TRANSACTION_EXPIRED);
    ac.abort(new Error('3 s passed'));
    await expect(closing).rejects.toThrow('3 s passed');
    // An empty manager closes at once.
    await new TxnManager().gracefulClose();
  });

  it('unknown ids are TRANSACTION_EXPIRED ("not found")', () => {
    const error = expectThrowsCode(() => new TxnManager().getSessionOfTxn(42n), StreamingCode.TRANSACTION_EXPIRED);
    expect(error.message).toContain('not found');
  });

  it('uses the default keepalive for 0 and the begin tick as a unique id', () => {
    const m = new TxnManager({ defaultKeepaliveMs: 5_000n });
    const a = m.beginNewTxn({ vchannel: V1, timeTick: T0, keepaliveMs: 0n });
    expect(a.txnContext.keepaliveMs).toBe(5_000n);
    expect(a.txnId).toBe(T0);
    const b = m.beginNewTxn({ vchannel: V1, timeTick: T0, keepaliveMs: 7n });
    expect(b.txnId).toBe(T0 + 1n);
    expect(b.txnContext.keepaliveMs).toBe(7n);
    expect(new TxnManager().beginNewTxn({ vchannel: V1, timeTick: T0, keepaliveMs: 0n }).txnContext.keepaliveMs).toBe(
      DEFAULT_TXN_KEEPALIVE_MS,
    );
  });

  it('takes an injected id allocator and refuses an id still open', () => {
    const m = new TxnManager({ allocateTxnId: () => 9n });
    expect(m.beginNewTxn({ vchannel: V1, timeTick: T0, keepaliveMs: 0n }).txnId).toBe(9n);
    expectThrowsCode(() => m.beginNewTxn({ vchannel: V1, timeTick: T0 + 1n, keepaliveMs: 0n }), StreamingCode.INNER);
  });

  it('fails and forgets the transactions of one vchannel, or of all', async () => {
    const m = new TxnManager();
    const s1 = m.beginNewTxn({ vchannel: V1, timeTick: T0, keepaliveMs: 0n });
    const s2 = m.beginNewTxn({ vchannel: V2, timeTick: T0 + 1n, keepaliveMs: 0n });
    const s3 = m.beginNewTxn({ vchannel: V1, timeTick: T0 + 2n, keepaliveMs: 0n });
    for (const s of [s1, s2, s3]) s.beginDone();
    let cleaned = 0;
    s1.registerCleanup(() => cleaned++, T0);
    const closed = m.gracefulClose();

    m.failTxnAtVChannel(V1);
    expect(cleaned).toBe(1);
    expect(m.sessionCount).toBe(1);
    expectThrowsCode(() => m.getSessionOfTxn(s1.txnId), StreamingCode.TRANSACTION_EXPIRED);
    expect(s1.isExpiredOrDone(T0)).toBe(true);
    await expectCode(s3.requestCommitAndWait(T0 + 3n), StreamingCode.TRANSACTION_EXPIRED);
    expect(m.getSessionOfTxn(s2.txnId)).toBe(s2);
    expect(await isSettled(closed)).toBe(false);

    m.failTxnAtVChannel(undefined);
    expect(m.sessionCount).toBe(0);
    await closed;
  });

  it('recovers uncommitted transactions in flight, with their lease, and keeps new ids above theirs', async () => {
    const txn = txnContext(T0 + 5n, 10n);
    const lastBodyTick = addPhysicalMs(T0, 4);
    const builder = new TxnMessageBuilder(beginMessage(1, T0 + 5n, txn));
    builder.add(bodyMessage(2, lastBodyTick, txn));
    const m = new TxnManager({ uncommitted: [builder] });
    const session = m.getSessionOfTxn(txn.txnId);
    expect(session.state).toBe('inFlight');
    expect(session.vchannel).toBe(V1);
    expect(session.expiredTimeTick).toBe(addPhysicalMs(lastBodyTick, 10));

    expect(m.beginNewTxn({ vchannel: V1, timeTick: T0, keepaliveMs: 0n }).txnId).toBe(txn.txnId + 1n);
    await session.requestCommitAndWait(addPhysicalMs(T0, 5));
    session.commitDone();
    m.cleanupTxnUntil(T0);
    expectThrowsCode(() => m.getSessionOfTxn(txn.txnId), StreamingCode.TRANSACTION_EXPIRED);
  });
});

function beginMessage(id: number, tt: bigint, txn: TxnContext): ImmutableMessage {
  return newBeginTxnMessage({ vchannel: V1, keepaliveMs: txn.keepaliveMs })
    .withTxnContext(txn)
    .withTimeTick(tt)
    .withLastConfirmedUseMessageId()
    .intoImmutable(MessageId.of(id));
}

function bodyMessage(id: number, tt: bigint, txn: TxnContext): ImmutableMessage {
  return newUserMessage({ type: MessageType.Insert, vchannel: V1, payload: Buffer.from('x') })
    .withTxnContext(txn)
    .withTimeTick(tt)
    .withLastConfirmedUseMessageId()
    .intoImmutable(MessageId.of(id));
}
