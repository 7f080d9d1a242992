import { describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { MessageId } from '../../../../../shared/message/index.js';
import { Deferred } from '../../../../../shared/util/index.js';
import type { TsoAllocator } from '../../../../../shared/tso/index.js';
import { type Acker, AckDetails, AckManager, type AckTxnSession } from '../../../../../node/wal/utility/index.js';
import { CounterTso, insert, isSettled, SyncCounterTso } from './fixtures.js';

const seeded = (tso: TsoAllocator = new CounterTso()): AckManager =>
  new AckManager({ tso, lastConfirmedTimeTick: 0n, lastConfirmedMessageId: MessageId.of(0) });

const ok = (acker: Acker, id: number | bigint, txnSession?: AckTxnSession): boolean =>
  acker.ack({ kind: 'success', message: insert(id, acker.timestamp), ...(txnSession ? { txnSession } : {}) });

describe('AckManager (Go TestAck)', () => {
  it('releases details only once a contiguous prefix from the smallest time tick is acknowledged', async () => {
    const manager = seeded();
    const ackers = new Map<bigint, Acker>();
    for (let i = 0; i < 10; i++) {
      const acker = await manager.allocate();
      expect(acker.lastConfirmedMessageId.equals(MessageId.of(0))).toBe(true);
      ackers.set(acker.timestamp, acker);
    }
    const get = (ts: number): Acker => ackers.get(BigInt(ts)) as Acker;

    // not acked: 1..10
    expect((await manager.syncAndGetAcknowledged()).isEmpty).toBe(true);
    ok(get(2), 102);
    expect((await manager.syncAndGetAcknowledged()).isEmpty).toBe(true);
    ok(get(4), 104);
    expect((await manager.syncAndGetAcknowledged()).isEmpty).toBe(true);
    expect(manager.lastConfirmedTimeTick).toBe(0n);

    ok(get(1), 101);
    expect(manager.lastConfirmedTimeTick).toBe(2n);
    const first = await manager.syncAndGetAcknowledged();
    expect(first.details.map((d) => d.beginTimestamp)).toEqual([1n, 2n]);
    expect((await manager.syncAndGetAcknowledged()).isEmpty).toBe(true);

    for (let ts = 5; ts <= 10; ts++) ok(get(ts), 100 + ts);
    expect((await manager.syncAndGetAcknowledged()).isEmpty).toBe(true);

    const x = await manager.allocate();
    const y = await manager.allocate();
    expect((await manager.syncAndGetAcknowledged()).isEmpty).toBe(true);

    ok(get(3), 103);
    // 3..10 and the sync ticks allocated meanwhile, up to (not including) x.
    const second = await manager.syncAndGetAcknowledged();
    expect(second.length).toBeGreaterThan(8);
    expect(second.lastAllAcknowledgedTimestamp).toBe(x.timestamp - 1n);
    expect((await manager.syncAndGetAcknowledged()).isEmpty).toBe(true);

    ok(x, 200);
    ok(y, 201);
    const third = await manager.syncAndGetAcknowledged();
    expect(third.length).toBeGreaterThan(2);
    expect(third.details.at(-1)?.kind).toBe('sync');
    expect(manager.unacknowledgedCount).toBe(0);
  });

  it('summarises a batch for the time tick sync operator', async () => {
    const manager = seeded();
    const a = await manager.allocate();
    const b = await manager.allocate();
    ok(a, 7);
    b.ack({ kind: 'error', error: new Error('append failed') });
    const details = await manager.syncAndGetAcknowledged();
    expect(details.details.map((d) => d.kind)).toEqual(['success', 'error', 'sync']);
    expect(details.lastAllAcknowledgedTimestamp).toBe(3n);
    expect(details.earliestLastConfirmedMessageId?.equals(MessageId.of(0))).toBe(true);
    expect(details.hasNonSyncMessage).toBe(true);
    expect(details.successfulMessages().map((m) => m.messageId.offset)).toEqual([7n]);
    expect(details.details[0]?.endTimestamp).toBe(2n);

    const idle = await manager.syncAndGetAcknowledged();
    expect(idle.hasNonSyncMessage).toBe(false);
    expect(idle.successfulMessages()).toEqual([]);
    expect(new AckDetails([]).lastAllAcknowledgedTimestamp).toBeUndefined();
    expect(new AckDetails([]).earliestLastConfirmedMessageId).toBeUndefined();
  });

  it('ignores a second ack of the same acker', async () => {
    const manager = seeded();
    const a = await manager.allocate();
    expect(ok(a, 1)).toBe(true);
    expect(a.acknowledged).toBe(true);
    expect(a.ack({ kind: 'error', error: new Error('late') })).toBe(false);
    const details = await manager.syncAndGetAcknowledged();
    expect(details.details.map((d) => d.kind)).toEqual(['success', 'sync']);
  });

  it('moves the last confirmed id only past messages confirmed behind a later tick', async () => {
    const manager = seeded();
    const a = await manager.allocate(); // ts 1
    ok(a, 5); // end 1: confirmed once the watermark is past 1
    expect(manager.lastConfirmedTimeTick).toBe(1n);
    expect(manager.lastConfirmedMessageId.offset).toBe(0n);
    await manager.syncAndGetAcknowledged(); // ts 2 → watermark 2 > end 1
    expect(manager.lastConfirmedMessageId.offset).toBe(5n);
    const b = await manager.allocate();
    expect(b.lastConfirmedMessageId.offset).toBe(5n);

    // Failed appends and sync ticks never move it.
    b.ack({ kind: 'error', error: new Error('x') });
    await manager.syncAndGetAcknowledged();
    await manager.syncAndGetAcknowledged();
    expect(manager.lastConfirmedMessageId.offset).toBe(5n);
  });

  it('holds the last confirmed id at an open transaction until it is done', async () => {
    const manager = seeded();
    const session = { done: false, isExpiredOrDone(): boolean { return this.done; } };
    const beginAcker = await manager.allocate();
    ok(beginAcker, 10, session);
    const plain = await manager.allocate();
    ok(plain, 11);
    await manager.syncAndGetAcknowledged();
    await manager.syncAndGetAcknowledged();
    expect(manager.lastConfirmedMessageId.offset).toBe(0n);

    session.done = true;
    await manager.syncAndGetAcknowledged();
    expect(manager.lastConfirmedMessageId.offset).toBe(11n);
  });

  it('does not pass a late-acknowledged txn begin (gap in the Go original)', async () => {
    // Begin B (ts 1) and plain P (ts 2) append as ids 5 and 6; P is acked, then X (ts 3) is
    // allocated and acked, then Y (ts 4) is allocated, and only then B's ack arrives (end 4).
    // Watermark becomes 3 and P (end 2 < 3) is confirmed. With Milvus' end-timestamp heap B
    // (end 4) is not confirmed yet, so the id jumps to 6, past the open transaction's begin:
    // a consumer resuming there would never see the begin.
    const manager = seeded();
    const session: AckTxnSession = { isExpiredOrDone: () => false };
    const b = await manager.allocate();
    const p = await manager.allocate();
    ok(p, 6);
    const x = await manager.allocate();
    ok(x, 7);
    const y = await manager.allocate();
    ok(b, 5, session);
    expect(manager.lastConfirmedTimeTick).toBe(3n);
    expect(manager.lastConfirmedMessageId.offset).toBe(0n);
    ok(y, 8);
    await manager.syncAndGetAcknowledged();
    await manager.syncAndGetAcknowledged();
    expect(manager.lastConfirmedMessageId.offset).toBe(0n);
  });

  it('allocateWithBarrier waits until the confirmed time tick passes the barrier', async () => {
    const manager = seeded();
    const a = await manager.allocate(); // 1
    const b = await manager.allocate(); // 2
    const barrier = manager.allocateWithBarrier(1n);
    expect(await isSettled(barrier)).toBe(false);
    ok(a, 1); // watermark 1: not > 1
    expect(await isSettled(barrier)).toBe(false);
    ok(b, 2); // watermark 2
    const acker = await barrier;
    expect(acker.timestamp).toBeGreaterThan(2n);

    // Already past: no wait.
    expect((await manager.allocateWithBarrier(0n)).timestamp).toBeGreaterThan(acker.timestamp);
  });

  it('aborts a barrier wait and an allocation with the signal reason', async () => {
    const manager = seeded();
    await manager.allocate();
    const ac = new AbortController();
    const waiting = manager.allocateWithBarrier(5n, { signal: ac.signal });
    const reason = StreamingError.onShutdown('client gone');
    ac.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(manager.allocate({ signal: ac.signal })).rejects.toBe(reason);
    expect(manager.unacknowledgedCount).toBe(1);
  });

  it('fails waits and allocations after close, but still takes acks', async () => {
    const manager = seeded();
    const a = await manager.allocate();
    const waiting = manager.allocateWithBarrier(10n);
    manager.close();
    await expect(waiting).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    await expect(manager.allocate()).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    await expect(manager.syncAndGetAcknowledged()).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    ok(a, 1);
    expect(manager.lastConfirmedTimeTick).toBe(1n);
    manager.close(); // idempotent
  });

  it('allocates synchronously only when the TSO can and no allocation waits, keeping registration order', async () => {
    expect(seeded(new CounterTso()).tryAllocate()).toBeUndefined();
    const gate = new Deferred<void>();
    const inner = new SyncCounterTso();
    let windowEmpty = false;
    // Like the remote TSO: timestamps at hand unless its window is empty, then a round trip.
    const tso: TsoAllocator = {
      allocate: async () => {
        if (windowEmpty) await gate.promise;
        return inner.allocate();
      },
      tryAllocate: () => (windowEmpty ? undefined : inner.tryAllocate()),
    };
    const manager = seeded(tso);
    const a = manager.tryAllocate() as Acker;
    expect(a.timestamp).toBe(1n);
    expect((await manager.allocate()).timestamp).toBe(2n); // no waiting either
    windowEmpty = true;
    expect(manager.tryAllocate()).toBeUndefined();
    const waiting = manager.allocate({ signal: new AbortController().signal });
    await isSettled(waiting);
    windowEmpty = false;
    // Taking a tick now would register it ahead of the allocation in progress: refused.
    expect(manager.tryAllocate()).toBeUndefined();
    const behind = manager.allocate();
    gate.resolve();
    expect((await waiting).timestamp).toBe(3n);
    expect((await behind).timestamp).toBe(4n);
    expect(manager.tryAllocate()?.timestamp).toBe(5n);
    expect(manager.unacknowledgedCount).toBe(5);
    manager.close();
    expect(() => manager.tryAllocate()).toThrow(StreamingError);
  });

  it('an acker is its own detail once acknowledged', async () => {
    const manager = seeded(new SyncCounterTso());
    const a = manager.tryAllocate() as Acker;
    expect(a.acknowledged).toBe(false);
    expect(() => a.kind).toThrow(/not acknowledged/);
    const b = await manager.allocate();
    expect(a.ackSuccess(insert(7, a.timestamp))).toBe(true);
    expect(a.ackError(new Error('late'))).toBe(false);
    const [detail] = (await manager.syncAndGetAcknowledged()).details;
    expect(detail).toBe(a);
    expect(detail).toMatchObject({ kind: 'success', beginTimestamp: 1n, endTimestamp: 2n, txnSession: undefined, error: undefined });
    const failure = new Error('append failed');
    expect(b.ackError(failure)).toBe(true);
    const [failed] = (await manager.syncAndGetAcknowledged()).details;
    expect(failed).toMatchObject({ kind: 'error', beginTimestamp: 2n, error: failure, message: undefined });
  });

  it('refuses a TSO that goes backwards and registers nothing', async () => {
    const tso = new CounterTso(5n);
    const manager = new AckManager({ tso, lastConfirmedTimeTick: 10n, lastConfirmedMessageId: MessageId.of(0) });
    await expect(manager.allocate()).rejects.toMatchObject({ code: StreamingCode.INNER });
    expect(manager.unacknowledgedCount).toBe(0);
  });

  it('propagates a TSO failure and stays usable', async () => {
    let fail = true;
    const inner = new CounterTso();
    const tso: TsoAllocator = { allocate: () => (fail ? Promise.reject(StreamingError.inner('tso down')) : inner.allocate()) };
    const manager = seeded(tso);
    await expect(manager.allocate()).rejects.toThrow('tso down');
    fail = false;
    expect((await manager.allocate()).timestamp).toBe(1n);
  });

  it('serialises concurrent allocations so time ticks register in order (Go TestAckManager)', async () => {
    const manager = seeded();
    let nextId = 1n;
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const yieldTurns = async (): Promise<void> => {
      for (let i = random(4); i > 0; i--) await new Promise<void>((r) => setImmediate(r));
    };
    let collected = 0;
    let running = true;
    const syncLoop = (async () => {
      while (running) {
        const details = await manager.syncAndGetAcknowledged();
        collected += details.details.filter((d) => d.kind !== 'sync').length;
        await new Promise<void>((r) => setImmediate(r));
      }
    })();
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      tasks.push(
        (async () => {
          await yieldTurns();
          const acker = await manager.allocate();
          await yieldTurns();
          ok(acker, nextId++);
        })(),
      );
    }
    for (let i = 0; i < 30; i++) {
      tasks.push(
        (async () => {
          await yieldTurns();
          const acker = await manager.allocateWithBarrier(BigInt(i * 10));
          expect(acker.timestamp).toBeGreaterThan(BigInt(i * 10));
          await yieldTurns();
          ok(acker, nextId++);
        })(),
      );
    }
    await Promise.all(tasks);
    running = false;
    await syncLoop;
    collected += (await manager.syncAndGetAcknowledged()).details.filter((d) => d.kind !== 'sync').length;
    expect(collected).toBe(330);
    expect(manager.unacknowledgedCount).toBe(0);
  });
});
