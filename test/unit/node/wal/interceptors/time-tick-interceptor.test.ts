/**
 * The time tick interceptor composed into a small WAL: stamping, last confirmed ids, barriers.
 * Syncs are run by hand (the operator is not started) unless a test says otherwise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ImmutableMessage, MessageId } from '../../../../../shared/message/index.js';
import { StreamingCode } from '../../../../../shared/errors/index.js';
import { InterceptorChain, LockInterceptor, newAppendContext } from '../../../../../node/wal/interceptors/index.js';
import { beginTxn, commitTxn, expectCode, insert, isSettled, openTestWal, type TestWal, throwingHookInterceptor, turn, V1, V2 } from './fixtures.js';

let wal: TestWal | undefined;
afterEach(async () => {
  await wal?.close();
  wal = undefined;
});

const open = async (...args: Parameters<typeof openTestWal>): Promise<TestWal> => {
  wal = await openTestWal(...args);
  return wal;
};

/** The safe-resume contract: reading from M's `_lc` delivers every message with a larger tick. */
function expectLastConfirmedContract(messages: readonly ImmutableMessage[]): void {
  for (const m of messages) {
    for (const later of messages) {
      if (later.timeTick > m.timeTick) expect(later.messageId.gte(m.lastConfirmedMessageId)).toBe(true);
    }
  }
}

describe('TimeTickInterceptor', () => {
  it('stamps _tt and _lc and fills the append result', async () => {
    const w = await open();
    const { id, result } = await w.append(insert());
    const [stored] = (await w.readAll()).filter((m) => m.messageId.equals(id));
    expect(stored?.timeTick).toBe(result.timeTick);
    expect(result.timeTick).toBeGreaterThan(w.first.timeTick);
    expect(stored?.lastConfirmedMessageId.equals(w.first.messageId)).toBe(true);
    expect(result.lastConfirmedMessageId?.equals(w.first.messageId)).toBe(true);
    expect(result.txnContext).toBeUndefined();
  });

  it('concurrent appends get strictly increasing ticks in call order, whatever order they finish in', async () => {
    const w = await open();
    w.gate.hold(() => true);
    const appends = Array.from({ length: 20 }, (_, i) => w.append(insert(i % 2 === 0 ? V1 : V2, `m${i}`)));
    while (w.gate.parkedCount < 20) await turn();
    w.gate.stopHolding();
    // Finish them in a scrambled order.
    for (const i of [7, 0, 12, 3, 3, 9, 0, 5, 1, 0, 4, 2, 3, 0, 1, 0, 2, 1, 0, 0]) w.gate.releaseAt(Math.min(i, w.gate.parkedCount - 1));
    const results = await Promise.all(appends);
    const ticks = results.map((r) => r.result.timeTick as bigint);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1] as bigint);
    await w.operator.sync();
    expectLastConfirmedContract(await w.readAll());
  });

  it('_lc never passes an append still in flight', async () => {
    const w = await open();
    await w.append(insert(V1, 'warm-up'));
    await w.operator.sync();
    w.gate.hold((m) => m.property('held') === 'yes');
    const slow = w.append(insert(V1).withProperties({ held: 'yes' }));
    while (w.gate.parkedCount < 1) await turn();
    w.gate.stopHolding();
    const fast: MessageId[] = [];
    for (let i = 0; i < 5; i++) fast.push((await w.append(insert(V2))).id);
    await w.operator.sync();
    const lcWhileInFlight = (await w.append(insert(V2))).result.lastConfirmedMessageId as MessageId;
    // The slow append will get an id above every fast one; its tick is below theirs. The last
    // confirmed id must not move past the fast ones, or a resume would skip the slow message.
    expect(lcWhileInFlight.lt(fast[0] as MessageId)).toBe(true);

    w.gate.releaseAll();
    const slowId = (await slow).id;
    await w.operator.sync();
    await w.append(insert(V1));
    await w.operator.sync();
    const after = (await w.append(insert(V1))).result.lastConfirmedMessageId as MessageId;
    expect(after.gte(slowId)).toBe(true);
    expectLastConfirmedContract(await w.readAll());
  });

  it('_lc never passes the BeginTxn of an open transaction', async () => {
    const w = await open();
    const begun = await w.append(beginTxn());
    const txn = begun.result.txnContext;
    expect(txn).toBeDefined();
    for (let i = 0; i < 5; i++) {
      await w.append(insert(V2));
      await w.operator.sync();
    }
    const held = (await w.append(insert(V2))).result.lastConfirmedMessageId as MessageId;
    expect(held.lte(begun.id)).toBe(true);

    await w.append(commitTxn(txn));
    await w.operator.sync();
    await w.append(insert(V2));
    await w.operator.sync();
    const moved = (await w.append(insert(V2))).result.lastConfirmedMessageId as MessageId;
    expect(moved.gt(begun.id)).toBe(true);
    expectLastConfirmedContract(await w.readAll());
  });

  it('acknowledges failed appends so later ticks can still be confirmed', async () => {
    const w = await open();
    w.gate.hold(() => true);
    const failing = w.chain.append(insert(V1), newAppendContext());
    while (w.gate.parkedCount < 1) await turn();
    await w.backend.close();
    w.gate.releaseAll();
    await expect(failing).rejects.toThrow();
    expect(w.acks.unacknowledgedCount).toBe(0);
  });

  it('acknowledges a plain append before its caller resumes, and shares the stored message with the ack', async () => {
    const w = await open();
    const { id, result } = await w.append(insert(V1));
    // No sync ran: only the acknowledgement itself can have moved the watermark past the tick.
    expect(w.acks.unacknowledgedCount).toBe(0);
    expect(w.acks.lastConfirmedTimeTick).toBe(result.timeTick);
    const [detail] = (await w.acks.syncAndGetAcknowledged()).details;
    expect(detail?.message?.messageId.equals(id)).toBe(true);
    const [stored] = (await w.readAll()).slice(-1);
    expect(detail?.message?.properties).toBe(stored?.properties);
  });

  it('a throwing settle hook of another interceptor leaks neither the acker nor the locks', async () => {
    const w = await open();
    const buggy = throwingHookInterceptor('buggy');
    const lock = new LockInterceptor({ txnManager: w.txns });
    // The buggy hook runs last (outermost), then first (innermost).
    for (const interceptors of [[buggy, lock, w.timeTick], [lock, w.timeTick, buggy]]) {
      const chain = new InterceptorChain({ interceptors, append: w.gate.append });
      await chain.ready();
      const ctx = newAppendContext();
      await chain.append(insert(V1), ctx);
      expect(ctx.result.timeTick).toBeDefined();
      expect(w.acks.unacknowledgedCount).toBe(0);
      expect(w.acks.lastConfirmedTimeTick).toBe(ctx.result.timeTick);
      expect(lock.lockedVChannelCount).toBe(0);
    }
  });

  it('a malformed _tx fails the append after its tick was taken, and the tick is still acknowledged', async () => {
    const w = await open();
    await expectCode(w.append(insert(V1).withProperties({ _tx: '!!' })), StreamingCode.INVAILD_ARGUMENT);
    expect(w.acks.unacknowledgedCount).toBe(0);
    const { result } = await w.append(insert(V1));
    expect(w.acks.lastConfirmedTimeTick).toBe(result.timeTick);
  });

  it('a barrier message waits until every tick up to the barrier is settled, then gets a greater one', async () => {
    const w = await open();
    w.gate.hold(() => true);
    const inFlight = w.append(insert(V1));
    while (w.gate.parkedCount < 1) await turn();
    const barrier = w.acks.lastAllocatedTimeTick;
    w.gate.stopHolding();
    const withBarrier = w.append(insert(V2).withBarrierTimeTick(barrier));
    expect(await isSettled(withBarrier)).toBe(false);
    w.gate.releaseAll();
    await inFlight;
    const { result } = await withBarrier;
    expect(result.timeTick).toBeGreaterThan(barrier);
  });

  it('a barrier above every tick handed out is reached without any sync running', async () => {
    const w = await open();
    const barrier = w.acks.lastAllocatedTimeTick + 5n;
    const { result } = await w.append(insert(V1).withBarrierTimeTick(barrier));
    expect(result.timeTick).toBeGreaterThan(barrier);
  });

  it('the caller abort reaches the allocation', async () => {
    const w = await open();
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(w.append(insert(), ac.signal)).rejects.toThrow('gone');
    expect(w.acks.unacknowledgedCount).toBe(0);
  });
});
