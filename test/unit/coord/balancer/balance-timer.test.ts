/**
 * The balancer's timing (reference `milvus-coord.md` §3.2): exponential backoff after failed
 * rounds (reset by a success, restarted each time it is newly enabled), the periodic trigger
 * interval, and trigger coalescing. Fake timers: this is timer logic.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BalanceTimer, BalanceTriggers } from '../../../../coord/balancer/balance-triggers.js';
import { StreamingCode, StreamingError } from '../../../../shared/index.js';
import { type Harness, closeHarness, startHarness } from './fakes/balancer-harness.js';
import { RecordingLogger } from './fakes/recording-logger.js';

describe('BalanceTimer', () => {
  it('sleeps the trigger interval, backs off exponentially after failures, and resets', () => {
    const t = new BalanceTimer(60_000, { initialMs: 10, maxMs: 50, multiplier: 2, jitter: 0 });
    expect(t.nextDelayMs()).toBe(60_000);
    t.enableBackoff();
    expect([t.nextDelayMs(), t.nextDelayMs(), t.nextDelayMs(), t.nextDelayMs()]).toEqual([10, 20, 40, 50]);
    t.enableBackoff(); // still failing: keeps growing
    expect(t.nextDelayMs()).toBe(50);
    t.disableBackoff();
    expect(t.nextDelayMs()).toBe(60_000);
    t.enableBackoff(); // newly enabled: starts over
    expect(t.nextDelayMs()).toBe(10);
  });
});

describe('BalanceTriggers', () => {
  it('coalesces notifications and wakes a waiting loop at once', async () => {
    const triggers = new BalanceTriggers();
    const signal = new AbortController().signal;
    triggers.notify('nodes');
    triggers.notify('report');
    await triggers.wait(60_000, signal); // pending: returns at once
    expect(triggers.beginRound()).toEqual({ round: 1, reasons: ['nodes', 'report'] });
    const waiting = triggers.wait(60_000, signal);
    triggers.notify('policy');
    await waiting;
    expect(triggers.beginRound().reasons).toEqual(['policy']);
  });

  it('counts only rounds that start after waitForFreshRound, and fails waiters on rejectAll', async () => {
    const triggers = new BalanceTriggers();
    triggers.beginRound(); // round 1 running
    const waiter = triggers.waitForFreshRound();
    let settled = false;
    void waiter.then(() => (settled = true));
    triggers.endRound({ round: 1, ok: true, changed: 0 });
    await Promise.resolve();
    expect(settled).toBe(false);
    triggers.beginRound();
    triggers.endRound({ round: 2, ok: false, changed: 0, error: StreamingError.unknown('x') });
    expect(await waiter).toMatchObject({ round: 2, ok: false });

    const late = triggers.waitForFreshRound();
    triggers.rejectAll(StreamingError.onShutdown('closed'));
    await expect(late).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
  });
});

describe('balancer loop timing (fake timers)', () => {
  let h: Harness | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    if (h !== undefined) await closeHarness(h);
    h = undefined;
    vi.useRealTimers();
  });

  const roundStarts = (log: RecordingLogger): number => log.withMsg('balance round start').length;

  it('retries failed rounds with growing backoff, then falls back to the trigger interval after a success', async () => {
    const logger = new RecordingLogger();
    h = await startHarness({
      channelCount: 2,
      nodes: [],
      balancer: { logger, triggerIntervalMs: 60_000, backoff: { initialMs: 10, maxMs: 40, multiplier: 2, jitter: 0 } },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(roundStarts(logger)).toBe(1); // the start round: no node, fails

    // Backoff rounds at +10, +20, +40, +40 ms.
    await vi.advanceTimersByTimeAsync(9);
    expect(roundStarts(logger)).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(roundStarts(logger)).toBe(2);
    await vi.advanceTimersByTimeAsync(20);
    expect(roundStarts(logger)).toBe(3);
    await vi.advanceTimersByTimeAsync(40);
    expect(roundStarts(logger)).toBe(4);
    await vi.advanceTimersByTimeAsync(40);
    expect(roundStarts(logger)).toBe(5);

    // A node arrives: its view change triggers a round at once, which succeeds.
    h.registry.join(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(roundStarts(logger)).toBe(6);
    expect(logger.withMsg('balance round done').length).toBe(1);
    expect(logger.withMsg('balance moves persisted (phase 1)')[0]?.fields.moves).toEqual([
      'dml_0:rw@2>1@10.0.0.1:22222',
      'dml_1:rw@2>1@10.0.0.1:22222',
    ]);
    expect(logger.lines.every((l) => l.fields.component === 'balancer')).toBe(true);

    // Back to the trigger interval.
    await vi.advanceTimersByTimeAsync(59_999);
    expect(roundStarts(logger)).toBe(6);
    await vi.advanceTimersByTimeAsync(1);
    expect(roundStarts(logger)).toBe(7);
    expect(logger.withMsg('balance round start')[6]?.fields.reasons).toEqual(['timer']);
  });

  it('gives up on a node whose CollectStatus outlives the deadline', async () => {
    h = await startHarness({ channelCount: 2, nodes: [1, 2], noStart: true, balancer: { collectStatusTimeoutMs: 1_000 } });
    h.registry.node(2).hangNext('collectStatus');
    await h.balancer.start();
    const outcome = h.balancer.triggerBalance();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await outcome).toMatchObject({ ok: true });
    // Node 2 missed the first pass's deadline: everything went to node 1 first.
    expect(h.registry.callsOf('assign', 1).length).toBeGreaterThanOrEqual(2);
    expect(h.registry.callsOf('collectStatus', 2)[0]?.outcome).toBe('aborted');
  });
});
