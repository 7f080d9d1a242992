import { describe, expect, it } from 'vitest';
import { StreamingError } from '../../../../shared/errors/index.js';
import { waitFor, WaitForTimeoutError } from '../../../../shared/util/index.js';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? { n } : undefined), { intervalMs: 1 })).resolves.toEqual({ n: 3 });
  });

  it('treats a throw as "not yet"', async () => {
    let n = 0;
    const value = await waitFor(
      async () => {
        if (++n < 3) throw new Error('not ready');
        return 'ok';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ok');
  });

  it('on timeout names the condition and the last error', async () => {
    const error = await waitFor(
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 50, intervalMs: 5, message: 'node 3 is registered' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitForTimeoutError);
    const e = error as WaitForTimeoutError;
    expect(e.message).toMatch(/timed out after 50 ms waiting for node 3 is registered/);
    expect(e.message).toContain('last error: connection refused');
    expect((e.cause as Error).message).toBe('connection refused');
    expect(e.attempts).toBeGreaterThanOrEqual(1);
  });

  it('without a message, shows the function source and the last value', async () => {
    const error = (await waitFor(() => 0 > 1, { timeoutMs: 30, intervalMs: 5 }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('0 > 1');
    expect(error.message).toContain('last value: false');
  });

  it('does not let a hanging attempt extend the deadline', async () => {
    const started = Date.now();
    await expect(waitFor(() => new Promise<boolean>(() => undefined), { timeoutMs: 50 })).rejects.toBeInstanceOf(WaitForTimeoutError);
    // Generous bound for a busy machine; the hanging promise alone would never settle.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops with the abort reason', async () => {
    const ac = new AbortController();
    const p = waitFor(() => false, { timeoutMs: 10_000, intervalMs: 5, signal: ac.signal });
    const reason = StreamingError.onShutdown('test over');
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
  });

  it('never evaluates the condition with an already aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('early'));
    let calls = 0;
    await expect(waitFor(() => ++calls, { signal: ac.signal })).rejects.toThrow('early');
    expect(calls).toBe(0);
  });
});
