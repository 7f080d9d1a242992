import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamingError } from '../../../../shared/errors/index.js';
import { Backoff, retry } from '../../../../shared/util/index.js';

describe('Backoff', () => {
  it('grows by the multiplier up to maxMs without jitter', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 100, multiplier: 2, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, 80, 100, 100]);
    expect(b.attempts).toBe(6);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(10);
  });

  it('keeps every jittered delay within base·(1±jitter) and maxMs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), { minLength: 1, maxLength: 20 }),
        (initialMs, extra, multiplier, jitter, randoms) => {
          const maxMs = initialMs + extra;
          let i = 0;
          const b = new Backoff({ initialMs, maxMs, multiplier, jitter, random: () => randoms[i++ % randoms.length] ?? 0 });
          let base = initialMs;
          for (let n = 0; n < randoms.length; n++) {
            const d = b.next();
            expect(d).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)));
            expect(d).toBeLessThanOrEqual(Math.min(maxMs, Math.ceil(base * (1 + jitter))));
            base = Math.min(maxMs, base * multiplier);
          }
        },
      ),
    );
  });

  it('rejects nonsensical options', () => {
    expect(() => new Backoff({ initialMs: -1 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(/maxMs/);
    expect(() => new Backoff({ multiplier: 0.5 })).toThrow(/multiplier/);
    expect(() => new Backoff({ jitter: 2 })).toThrow(/jitter/);
    expect(() => new Backoff({ initialMs: Number.NaN })).toThrow(/finite/);
  });
});

describe('retry', () => {
  afterEach(() => vi.useRealTimers());
  const fast = { initialMs: 1, maxMs: 1, multiplier: 1, jitter: 0 };

  it('returns the first success and reports each retry', async () => {
    const onRetry = vi.fn();
    let calls = 0;
    const result = await retry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return 'ok';
      },
      { backoff: fast, onRetry },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(onRetry.mock.calls.map((c) => [(c[0] as Error).message, c[1], c[2]])).toEqual([
      ['fail 1', 1, 1],
      ['fail 2', 2, 1],
    ]);
  });

  it('stops after maxAttempts with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async (attempt) => {
          calls++;
          throw new Error(`fail ${attempt}`);
        },
        { backoff: fast, maxAttempts: 4 },
      ),
    ).rejects.toThrow('fail 4');
    expect(calls).toBe(4);
  });

  it('does not retry what retryIf rejects', async () => {
    let calls = 0;
    const fatal = StreamingError.unrecoverable('broken');
    await expect(
      retry(
        async () => {
          calls++;
          throw fatal;
        },
        { backoff: fast, retryIf: (e) => !(e as StreamingError).isUnrecoverable() },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
  });

  it('rejects with the abort reason while waiting between attempts', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    let calls = 0;
    const p = retry(
      async () => {
        calls++;
        throw new Error('transient');
      },
      { backoff: { initialMs: 1_000, maxMs: 1_000, multiplier: 1, jitter: 0 }, signal: ac.signal },
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    const reason = StreamingError.onShutdown('stop');
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(calls).toBe(1);
  });

  it('sleeps the backoff delay between attempts', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const p = retry(
      async () => {
        if (++calls < 3) throw new Error('x');
        return calls;
      },
      { backoff: { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 } },
    );
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).resolves.toBe(3);
  });

  it('rejects maxAttempts below 1', async () => {
    await expect(retry(async () => 1, { maxAttempts: 0 })).rejects.toThrow(RangeError);
  });
});
