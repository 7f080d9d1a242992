import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamingError } from '../../../../shared/errors/index.js';
import { abortableSleep, abortReason, anySignal, raceAbort, throwIfAborted } from '../../../../shared/util/index.js';

describe('abortReason / throwIfAborted', () => {
  it('uses the StreamingError given as reason', () => {
    const ac = new AbortController();
    const reason = StreamingError.channelFenced('ch-1');
    ac.abort(reason);
    expect(abortReason(ac.signal)).toBe(reason);
    expect(() => throwIfAborted(ac.signal)).toThrow(reason);
  });

  it('wraps a non-Error reason into ON_SHUTDOWN', () => {
    const ac = new AbortController();
    ac.abort('bye');
    const err = abortReason(ac.signal);
    expect(err).toBeInstanceOf(StreamingError);
    expect((err as StreamingError).isOnShutdown()).toBe(true);
    expect(err.message).toContain('bye');
  });

  it('does nothing for a live or missing signal', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    expect(() => throwIfAborted(new AbortController().signal)).not.toThrow();
  });
});

describe('abortableSleep', () => {
  afterEach(() => vi.useRealTimers());

  it('resolves after the delay', async () => {
    vi.useFakeTimers();
    let done = false;
    const p = abortableSleep(100).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('rejects with the reason on abort and clears its timer', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    const p = abortableSleep(10_000, ac.signal);
    const reason = StreamingError.onShutdown('closing');
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once for an already aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('x'));
    await expect(abortableSleep(10, ac.signal)).rejects.toThrow('x');
  });
});

describe('raceAbort', () => {
  it('settles like the promise when not aborted', async () => {
    const ac = new AbortController();
    await expect(raceAbort(Promise.resolve(7), ac.signal)).resolves.toBe(7);
    await expect(raceAbort(Promise.reject(new Error('no')), ac.signal)).rejects.toThrow('no');
    await expect(raceAbort(Promise.resolve(1))).resolves.toBe(1);
  });

  it('rejects with the abort reason first, and swallows the late result', async () => {
    const ac = new AbortController();
    let rejectLate!: (e: Error) => void;
    const slow = new Promise<number>((_, reject) => (rejectLate = reject));
    const raced = raceAbort(slow, ac.signal);
    const reason = StreamingError.onShutdown('stop');
    ac.abort(reason);
    await expect(raced).rejects.toBe(reason);
    rejectLate(new Error('late')); // must not surface as an unhandled rejection
  });
});

describe('anySignal', () => {
  it('aborts with the first source reason', () => {
    const a = new AbortController();
    const b = new AbortController();
    const combined = anySignal([a.signal, undefined, b.signal]);
    expect(combined.signal.aborted).toBe(false);
    const reason = StreamingError.channelFenced('c');
    b.abort(reason);
    expect(combined.signal.aborted).toBe(true);
    expect(combined.signal.reason).toBe(reason);
    a.abort(new Error('later'));
    expect(combined.signal.reason).toBe(reason);
  });

  it('is already aborted when a source is', () => {
    const a = new AbortController();
    a.abort(new Error('early'));
    expect(anySignal([a.signal]).signal.reason).toEqual(new Error('early'));
  });

  it('stops following the sources after dispose()', () => {
    const a = new AbortController();
    const combined = anySignal([a.signal]);
    combined.dispose();
    combined.dispose();
    a.abort(new Error('x'));
    expect(combined.signal.aborted).toBe(false);
  });

  it('never aborts with no sources', () => {
    expect(anySignal([]).signal.aborted).toBe(false);
  });
});
