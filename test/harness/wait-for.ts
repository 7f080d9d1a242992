/**
 * Test-side polling helper: no bare sleeps in tests, poll a condition until a deadline.
 */

export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 25 ms). */
  readonly intervalMs?: number;
  /** Describes what was awaited, for the timeout error. */
  readonly message?: string;
}

/**
 * Calls `fn` until it returns a value other than `false`/`undefined`/`null` without throwing,
 * and resolves with that value. On timeout, rejects with an error naming `message` and the last
 * error `fn` threw (as `cause`).
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, false | undefined | null>> {
  const { timeoutMs = 10_000, intervalMs = 25, message = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== false && value !== undefined && value !== null) return value as Exclude<T, false | undefined | null>;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`waitFor timed out after ${timeoutMs} ms waiting for ${message}${detail}`, { cause: lastError });
    }
    await pause(intervalMs);
  }
}

/** A short pause between polling attempts (only for use inside polling loops). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
