/**
 * Polling with a deadline: the replacement for bare sleeps in tests and for "wait until the
 * cluster settles" steps in tools (kafkajs `waitFor`).
 */
import { abortableSleep, raceAbort, throwIfAborted } from './abort.js';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. Default 5000. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 20. */
  readonly intervalMs?: number;
  /** Stops waiting with the abort reason. */
  readonly signal?: AbortSignal;
  /** Names the condition in the timeout error; default: the function's source text. */
  readonly message?: string;
}

/** Rejection of {@link waitFor} when the deadline passes; `cause` is the last error thrown. */
export class WaitForTimeoutError extends Error {
  override readonly name = 'WaitForTimeoutError';
  /** How many times the condition was evaluated. */
  readonly attempts: number;
  /** The last falsy value returned, when the last attempt did not throw. */
  readonly lastValue: unknown;

  constructor(message: string, attempts: number, lastValue: unknown, cause: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.attempts = attempts;
    this.lastValue = lastValue;
  }
}

/** What `fn` returns when it is satisfied: anything but `false | 0 | '' | null | undefined`. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

/**
 * Calls `fn` until it returns a truthy value (resolving with that value) without throwing. A
 * falsy result or an exception means "not yet". When `timeoutMs` passes, rejects with a
 * {@link WaitForTimeoutError} that names the condition and shows the last error or value. A
 * call of `fn` that is itself still running at the deadline does not extend it.
 *
 * @example
 * ```ts
 * const node = await waitFor(() => nodes.find((n) => n.serverId === id), {
 *   timeoutMs: 10_000, message: `node ${id} registered`,
 * });
 * ```
 */
export async function waitFor<T>(fn: () => T | PromiseLike<T>, options: WaitForOptions = {}): Promise<Truthy<Awaited<T>>> {
  const { timeoutMs = 5_000, intervalMs = 20, signal } = options;
  throwIfAborted(signal);
  // One private signal ends both the running attempt and the pause between attempts, at the
  // deadline or when the caller aborts.
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error('deadline')), timeoutMs);
  const onAbort = (): void => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const progress: Progress = { attempts: 0, threw: false, lastError: undefined, lastValue: undefined };
  try {
    const result = await poll(fn, intervalMs, stop.signal, signal, progress);
    if (result) return result.value as Truthy<Awaited<T>>;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  throw timeoutError(options.message ?? describeFn(fn), timeoutMs, progress);
}

interface Progress {
  attempts: number;
  /** Whether the last finished attempt threw (else it returned a falsy value). */
  threw: boolean;
  lastError: unknown;
  lastValue: unknown;
}

/** Evaluates `fn` until truthy (`{value}`) or `stop` aborts (`undefined`); the caller's abort rethrows. */
async function poll<T>(
  fn: () => T | PromiseLike<T>,
  intervalMs: number,
  stop: AbortSignal,
  signal: AbortSignal | undefined,
  progress: Progress,
): Promise<{ value: Awaited<T> } | undefined> {
  while (!stop.aborted) {
    progress.attempts++;
    try {
      const value = await raceAbort(Promise.resolve().then(fn), stop);
      if (value) return { value };
      progress.threw = false;
      progress.lastValue = value;
    } catch (error) {
      throwIfAborted(signal);
      // A still-running attempt cut off by the deadline keeps the previous attempt's outcome.
      if (stop.aborted) return undefined;
      progress.threw = true;
      progress.lastError = error;
    }
    await abortableSleep(intervalMs, stop).catch(() => throwIfAborted(signal));
  }
  throwIfAborted(signal);
  return undefined;
}

function timeoutError(condition: string, timeoutMs: number, progress: Progress): WaitForTimeoutError {
  const { attempts, threw, lastError, lastValue } = progress;
  let last: string;
  if (attempts === 0) last = 'condition never evaluated';
  else if (threw) last = `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  else last = `last value: ${String(lastValue)}`;
  return new WaitForTimeoutError(
    `timed out after ${timeoutMs} ms waiting for ${condition} (${attempts} attempts; ${last})`,
    attempts,
    threw ? undefined : lastValue,
    threw ? lastError : undefined,
  );
}

function describeFn(fn: () => unknown): string {
  const source = fn.toString().replace(/\s+/g, ' ').trim();
  return source.length > 120 ? `${source.slice(0, 117)}...` : source;
}
