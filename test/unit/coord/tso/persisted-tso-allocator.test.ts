/**
 * PersistedTsoAllocator with an injected clock on an in-process store: hybrid layout, batches,
 * clock going backwards, logical overflow, window renewal (ahead of use and on demand), store
 * failures never letting a timestamp past the persisted bound, take-over by another allocator,
 * lost write responses, ordering of concurrent calls, and the lifecycle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import { LOGICAL_COUNT, composeTs, parseTs } from '../../../../shared/tso/index.js';
import { waitFor } from '../../../../shared/util/index.js';
import { PersistedTsoAllocator, decodeTsoWindow, type PersistedTsoAllocatorOptions } from '../../../../coord/tso/index.js';
import { expectCode } from '../../../conformance/meta-kv-fixture.js';
import { FakeClock, useTsoStore } from './tso-test-store.js';

const T0 = 1_700_000_000_000;
const KEY = 'unit/streamingcoord-meta/tso';

const store = useTsoStore();
const allocators: PersistedTsoAllocator[] = [];

afterEach(async () => {
  await Promise.allSettled(allocators.splice(0).map((a) => a.close()));
});

async function started(clock: FakeClock, options: Partial<PersistedTsoAllocatorOptions> = {}): Promise<PersistedTsoAllocator> {
  const tso = new PersistedTsoAllocator({
    kv: store().kv,
    key: KEY,
    now: clock.now,
    windowMs: 3_000,
    renewBeforeMs: 1_000,
    waitTimeoutMs: 500,
    retryBackoff: { initialMs: 1, maxMs: 20 },
    ...options,
  });
  allocators.push(tso);
  await tso.start();
  return tso;
}

async function persistedEnd(): Promise<bigint> {
  const kv = await store().raw.get(KEY);
  if (kv === undefined) throw new Error('no window persisted');
  return decodeTsoWindow(KEY, kv.value).endMs;
}

const physical = (ts: bigint): bigint => parseTs(ts).physicalMs;

describe('PersistedTsoAllocator: allocation', () => {
  it('persists a window ahead of the clock before the first timestamp, then hands out now<<18|logical', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock);
    expect(await persistedEnd()).toBe(BigInt(T0 + 3_000));
    expect(tso.windowEndMs).toBe(BigInt(T0 + 3_000));
    const stored = decodeTsoWindow(KEY, (await store().raw.get(KEY))!.value);
    expect(stored.owner).toBe(tso.ownerId);
    expect(await tso.allocate()).toBe(composeTs(T0, 0));
    expect(await tso.allocate(10)).toBe(composeTs(T0, 1));
    expect(await tso.allocate()).toBe(composeTs(T0, 11));
    expect(tso.lastAllocated()).toBe(composeTs(T0, 11));
    clock.advance(5);
    expect(await tso.allocate()).toBe(composeTs(T0 + 5, 0));
  });

  it('never goes back when the clock does', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock);
    const a = await tso.allocate();
    clock.advance(-60_000);
    const b = await tso.allocate();
    const c = await tso.allocate(5);
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
    expect(physical(c)).toBe(BigInt(T0));
    // A broken clock reading (NaN) is treated as no progress, not as time zero.
    clock.ms = Number.NaN;
    expect(await tso.allocate()).toBeGreaterThan(c);
  });

  it('moves to the next millisecond when the logical counter would overflow; a batch never straddles', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock);
    expect(await tso.allocate(LOGICAL_COUNT - 1)).toBe(composeTs(T0, 0));
    expect(await tso.allocate(2)).toBe(composeTs(T0 + 1, 0));
    expect(await tso.allocate(LOGICAL_COUNT - 2)).toBe(composeTs(T0 + 1, 2));
    expect(await tso.allocate()).toBe(composeTs(T0 + 2, 0));
    await expectCode(tso.allocate(LOGICAL_COUNT + 1), StreamingCode.INVAILD_ARGUMENT);
    await expectCode(tso.allocate(0), StreamingCode.INVAILD_ARGUMENT);
    await expectCode(tso.allocate(1.5), StreamingCode.INVAILD_ARGUMENT);
  });

  it('concurrent calls, some waiting for a renewal, resolve in call order with disjoint increasing ranges', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock);
    const counts = Array.from({ length: 300 }, (_, i) => 1 + ((i * 7919) % 5000));
    const calls: Promise<bigint>[] = [];
    for (const [i, count] of counts.entries()) {
      // Jump past the window twice mid-way, so later calls must wait behind a renewal.
      if (i === 100 || i === 200) clock.advance(10_000);
      calls.push(tso.allocate(count));
    }
    const firsts = await Promise.all(calls);
    for (let i = 1; i < firsts.length; i++) {
      expect(firsts[i]!, `call ${i}`).toBeGreaterThan(firsts[i - 1]! + BigInt(counts[i - 1]!) - 1n);
    }
    expect(physical(firsts[100]!)).toBe(BigInt(T0 + 20_000));
    expect(await persistedEnd()).toBeGreaterThan(physical(tso.lastAllocated()!));
  });
});

describe('PersistedTsoAllocator: the persisted window', () => {
  it('renews ahead of use once less than renewBeforeMs remains', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock);
    clock.advance(1_500);
    await tso.allocate();
    expect(store().kv.appliedTxns).toHaveLength(1); // 1.5 s left: no renewal yet
    clock.advance(600);
    await tso.allocate(); // 0.9 s left: renewal starts in the background
    await waitFor(async () => (await persistedEnd()) === BigInt(T0 + 2_100 + 3_000), { message: 'window renewed' });
    await waitFor(() => tso.windowEndMs === BigInt(T0 + 5_100), { message: 'renewal adopted' });
  });

  it('a clock jump past the window waits for a renewal, then continues from the new time', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock);
    clock.advance(60_000);
    expect(await tso.allocate()).toBe(composeTs(T0 + 60_000, 0));
    expect(await persistedEnd()).toBe(BigInt(T0 + 63_000));
  });

  it('while the store fails, no timestamp goes past the persisted bound; allocation fails with INNER, then recovers', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock, { windowMs: 20, renewBeforeMs: 5, waitTimeoutMs: 200 });
    const bound = await persistedEnd();
    store().kv.failAllTxns();
    // A stuck clock and full batches: each batch takes a whole millisecond of the window.
    const handed: bigint[] = [];
    let failure: unknown;
    for (let i = 0; i < 100 && failure === undefined; i++) {
      try {
        handed.push(await tso.allocate(LOGICAL_COUNT));
      } catch (e) {
        failure = e;
      }
    }
    expect(failure).toBeInstanceOf(StreamingError);
    expect((failure as StreamingError).code).toBe(StreamingCode.INNER);
    expect((failure as StreamingError).message).toMatch(/used up/);
    expect(handed.length).toBe(20);
    expect(handed.every((ts) => physical(ts) < bound)).toBe(true);
    expect(await persistedEnd()).toBe(bound);
    // The store comes back: allocation resumes above everything handed out.
    store().kv.heal();
    const next = await tso.allocate();
    expect(next).toBeGreaterThan(handed[handed.length - 1]!);
    expect(physical(next)).toBeLessThan(await persistedEnd());
  });

  it('a renewal whose response was lost is recognised as ours, not as a take-over', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock);
    store().kv.loseResponses = 1;
    clock.advance(10_000);
    const ts = await tso.allocate();
    expect(physical(ts)).toBe(BigInt(T0 + 10_000));
    expect(tso.windowEndMs).toBe(await persistedEnd());
    expect(store().kv.txns.map((t) => t.outcome)).toEqual(['ok', 'ok', 'compare-failed']);
  });

  it('a restarted allocator starts at the persisted bound even when the clock went backwards', async () => {
    const clock = new FakeClock(T0);
    const first = await started(clock);
    const before = [await first.allocate(), await first.allocate(100)];
    await first.close();
    const second = await started(new FakeClock(T0 - 3_600_000));
    const after = await second.allocate();
    expect(after).toBe(composeTs(T0 + 3_000, 0));
    expect(after).toBeGreaterThan(before[1]! + 99n);
  });
});

describe('PersistedTsoAllocator: ownership and lifecycle', () => {
  it('stops with UNRECOVERABLE once another allocator took the window over', async () => {
    const clock = new FakeClock(T0);
    const old = await started(clock);
    const oldTs = await old.allocate();
    const fresh = await started(clock);
    const freshTs = await fresh.allocate();
    // Inside its old window the old owner still hands out timestamps, all below the new owner's.
    const lateOld = await old.allocate();
    expect(lateOld).toBeLessThan(freshTs);
    clock.advance(5_000);
    const error = await expectCode(old.allocate(), StreamingCode.UNRECOVERABLE);
    expect(error.message).toMatch(/took over/);
    expect(error.message).toContain(KEY);
    expect(await old.closed()).toBe(error);
    await expect(old.allocate()).rejects.toBe(error);
    expect(await fresh.allocate()).toBeGreaterThan(freshTs);
    expect(oldTs).toBeLessThan(freshTs);
  });

  it('start retries while the store fails, and fails at once on a corrupt window', async () => {
    const clock = new FakeClock(T0);
    store().kv.failNextTxns(3);
    const tso = await started(clock);
    expect(store().kv.txns.map((t) => t.outcome)).toEqual(['injected', 'injected', 'injected', 'ok']);
    expect(await tso.allocate()).toBe(composeTs(T0, 0));
    await store().raw.put(KEY, Buffer.from([1, 2, 3]));
    const broken = new PersistedTsoAllocator({ kv: store().kv, key: KEY, now: clock.now });
    allocators.push(broken);
    const error = await expectCode(broken.start(), StreamingCode.UNRECOVERABLE);
    expect(error.message).toContain(KEY);
  });

  it('a start that cannot reach the store ends when its signal aborts (ON_SHUTDOWN)', async () => {
    store().kv.failAllTxns();
    const tso = new PersistedTsoAllocator({ kv: store().kv, key: KEY, now: new FakeClock(T0).now, retryBackoff: { initialMs: 1, maxMs: 5 } });
    allocators.push(tso);
    const controller = new AbortController();
    const starting = tso.start({ signal: controller.signal });
    await waitFor(() => store().kv.txns.length >= 3, { message: 'failed take-over attempts' });
    controller.abort();
    await expectCode(starting, StreamingCode.ON_SHUTDOWN);
    await expectCode(tso.allocate(), StreamingCode.ON_SHUTDOWN);
  });

  it('close is idempotent, fails waiting calls with ON_SHUTDOWN, and later calls too', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock, { waitTimeoutMs: 10_000 });
    store().kv.failAllTxns();
    clock.advance(10_000);
    const waiting = tso.allocate();
    await waitFor(() => store().kv.txns.length >= 2, { message: 'a failed renewal' });
    const closing = tso.close();
    expect(tso.close()).toBe(closing);
    await closing;
    await expectCode(waiting, StreamingCode.ON_SHUTDOWN);
    await expectCode(tso.allocate(), StreamingCode.ON_SHUTDOWN);
    expect(await tso.closed()).toBeUndefined();
  });

  it('a caller signal ends its wait with the reason; others are unaffected', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock, { waitTimeoutMs: 10_000 });
    store().kv.failAllTxns();
    clock.advance(10_000);
    const controller = new AbortController();
    const waiting = tso.allocate(1, { signal: controller.signal });
    const reason = StreamingError.onShutdown('request cancelled');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    store().kv.heal();
    expect(physical(await tso.allocate())).toBe(BigInt(T0 + 10_000));
  });

  it('a waiter queued behind another ends at once when its own signal aborts', async () => {
    const clock = new FakeClock(T0);
    const tso = await started(clock, { waitTimeoutMs: 10_000 });
    store().kv.failAllTxns();
    clock.advance(10_000);
    const head = tso.allocate();
    const controller = new AbortController();
    const behind = tso.allocate(1, { signal: controller.signal });
    const reason = StreamingError.onShutdown('client went away');
    controller.abort(reason);
    await expect(behind).rejects.toBe(reason);
    // An already-aborted signal takes nothing, even when a timestamp is at hand.
    await expect(tso.allocate(1, { signal: controller.signal })).rejects.toBe(reason);
    store().kv.heal();
    expect(physical(await head)).toBe(BigInt(T0 + 10_000));
    expect(await tso.allocate()).toBe((await head) + 1n);
  });

  it('rejects bad options and allocation before start', async () => {
    const kv = store().kv;
    expect(() => new PersistedTsoAllocator({ kv, windowMs: 1_000, renewBeforeMs: 1_000 })).toThrow(/renewBeforeMs/);
    expect(() => new PersistedTsoAllocator({ kv, waitTimeoutMs: 0 })).toThrow(/waitTimeoutMs/);
    const idle = new PersistedTsoAllocator({ kv });
    allocators.push(idle);
    expect(idle.key).toBe('by-dev/meta/streamingcoord-meta/tso');
    await expectCode(idle.allocate(), StreamingCode.ON_SHUTDOWN);
  });
});
