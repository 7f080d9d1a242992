/** The timing rules of time tick emission, on fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SyncScheduler } from '../../../../../node/wal/interceptors/index.js';
import { Deferred } from '../../../../../shared/util/index.js';

interface Harness {
  scheduler: SyncScheduler;
  runs: boolean[];
  /** Settles the run in progress. */
  finishRun(): Promise<void>;
  errors: unknown[];
}

function harness(delayMs = 1, idleIntervalMs = 200, fail = false): Harness {
  const runs: boolean[] = [];
  const errors: unknown[] = [];
  let current: Deferred<void> | undefined;
  const scheduler = new SyncScheduler({
    delayMs,
    idleIntervalMs,
    run: (persist) => {
      runs.push(persist);
      current = new Deferred<void>();
      if (fail) current.reject(new Error('append failed'));
      return current.promise;
    },
    onError: (e) => errors.push(e),
  });
  return {
    scheduler,
    runs,
    errors,
    async finishRun() {
      current?.resolve();
      await vi.advanceTimersByTimeAsync(0);
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SyncScheduler', () => {
  it('runs once, delayMs after the first of a burst of requests', async () => {
    const h = harness(1);
    h.scheduler.start();
    for (let i = 0; i < 100; i++) h.scheduler.request(false);
    expect(h.runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.runs).toEqual([false]);
    await h.finishRun();
    await vi.advanceTimersByTimeAsync(10);
    expect(h.runs).toEqual([false]);
  });

  it('runs at most one at a time: requests during a run schedule exactly one follow-up', async () => {
    const h = harness(1);
    h.scheduler.start();
    h.scheduler.request(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.scheduler.isRunning).toBe(true);
    h.scheduler.request(false);
    h.scheduler.request(true);
    await vi.advanceTimersByTimeAsync(50);
    expect(h.runs).toEqual([false]);
    await h.finishRun();
    await vi.advanceTimersByTimeAsync(1);
    // The persisted request made during the first run is honoured by the follow-up.
    expect(h.runs).toEqual([false, true]);
    await h.finishRun();
    await vi.advanceTimersByTimeAsync(10);
    expect(h.runs).toEqual([false, true]);
  });

  it('with delayMs 0 runs on the next macrotask', async () => {
    const h = harness(0);
    h.scheduler.start();
    h.scheduler.request(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.runs).toEqual([true]);
  });

  it('ticks every idle interval', async () => {
    const h = harness(1, 200);
    h.scheduler.start();
    await vi.advanceTimersByTimeAsync(199);
    expect(h.runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(h.runs).toEqual([false]);
    await h.finishRun();
    await vi.advanceTimersByTimeAsync(200);
    expect(h.runs).toEqual([false, false]);
  });

  it('holds requests until started and drops everything once stopped', async () => {
    const h = harness(1);
    h.scheduler.request(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(h.runs).toEqual([]);
    h.scheduler.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(h.runs).toEqual([true]);
    await h.finishRun();
    h.scheduler.request(false);
    h.scheduler.stop();
    h.scheduler.request(false);
    h.scheduler.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.runs).toEqual([true]);
  });

  it('reports a failed run and keeps going', async () => {
    const h = harness(1, 200, true);
    h.scheduler.start();
    h.scheduler.request(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.errors).toHaveLength(1);
    h.scheduler.request(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.runs).toHaveLength(2);
  });

  it('rejects bad timings', () => {
    const run = (): Promise<void> => Promise.resolve();
    expect(() => new SyncScheduler({ delayMs: -1, idleIntervalMs: 200, run, onError: () => undefined })).toThrow(RangeError);
    expect(() => new SyncScheduler({ delayMs: 1, idleIntervalMs: 0, run, onError: () => undefined })).toThrow(RangeError);
  });
});
