/**
 * Exponential backoff with jitter, and a `retry()` loop built on it. Retry *policy* (which errors
 * are worth retrying) stays with the caller through `retryIf`, usually a StreamingError predicate
 * such as `!e.isUnrecoverable()` (STYLE §3).
 */
import { abortableSleep, throwIfAborted } from './abort.js';

/** Tuning of a {@link Backoff}. All durations in milliseconds. */
export interface BackoffOptions {
  /** Base delay of the first retry. */
  readonly initialMs: number;
  /** Cap of the base delay (and of any jittered delay). */
  readonly maxMs: number;
  /** Growth factor of the base delay per attempt, `>= 1`. */
  readonly multiplier: number;
  /** Relative spread in `[0, 1]`: a delay is drawn uniformly from `base·(1 ± jitter)`. */
  readonly jitter: number;
  /** Source of randomness in `[0, 1)`; tests pass a fixed one. Default `Math.random`. */
  readonly random?: () => number;
}

/** Defaults shaped like grpc-js's reconnect backoff, scaled to a WAL service's retry loops. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 50,
  maxMs: 5_000,
  multiplier: 2,
  jitter: 0.2,
});

/**
 * Produces retry delays: attempt `n` (from 0) has base `min(maxMs, initialMs·multiplier^n)`, and
 * `next()` returns a value drawn uniformly from `[base·(1−jitter), base·(1+jitter)]`, capped at
 * `maxMs`. Jitter keeps many clients that failed together from retrying in lockstep.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 10, maxMs: 1000, multiplier: 2, jitter: 0.2 });
 * while (!(await tryConnect())) await abortableSleep(backoff.next(), signal);
 * backoff.reset();
 * ```
 */
export class Backoff {
  readonly options: Readonly<BackoffOptions>;
  #base: number;
  #attempts = 0;

  constructor(options: Partial<BackoffOptions> = {}) {
    const merged = { ...DEFAULT_BACKOFF, ...options };
    checkBackoffOptions(merged);
    this.options = Object.freeze(merged);
    this.#base = merged.initialMs;
  }

  /** Number of `next()` calls since construction or the last `reset()`. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The next delay in ms; grows the base for the call after. */
  next(): number {
    const { maxMs, multiplier, jitter, random = Math.random } = this.options;
    const base = this.#base;
    const spread = base * jitter * (random() * 2 - 1);
    this.#base = Math.min(maxMs, base * multiplier);
    this.#attempts++;
    return Math.min(maxMs, Math.max(0, Math.round(base + spread)));
  }

  /** Starts over from `initialMs` (after a success). */
  reset(): void {
    this.#base = this.options.initialMs;
    this.#attempts = 0;
  }
}

function checkBackoffOptions(o: BackoffOptions): void {
  const finite = (name: string, v: number): void => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`backoff ${name} must be a finite number, got ${String(v)}`);
  };
  finite('initialMs', o.initialMs);
  finite('maxMs', o.maxMs);
  finite('multiplier', o.multiplier);
  finite('jitter', o.jitter);
  if (o.initialMs < 0) throw new RangeError(`backoff initialMs must be >= 0, got ${o.initialMs}`);
  if (o.maxMs < o.initialMs) throw new RangeError(`backoff maxMs (${o.maxMs}) must be >= initialMs (${o.initialMs})`);
  if (o.multiplier < 1) throw new RangeError(`backoff multiplier must be >= 1, got ${o.multiplier}`);
  if (o.jitter < 0 || o.jitter > 1) throw new RangeError(`backoff jitter must be within [0, 1], got ${o.jitter}`);
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** A Backoff instance (reused, not reset) or options for a fresh one. Default {@link DEFAULT_BACKOFF}. */
  readonly backoff?: Backoff | Partial<BackoffOptions>;
  /** Stops retrying: the pending wait (or the next attempt) rejects with the abort reason. */
  readonly signal?: AbortSignal;
  /** Whether a failure is worth another attempt. Default: every error is retried. */
  readonly retryIf?: (error: unknown, attempt: number) => boolean;
  /** Total attempts including the first; default unlimited. */
  readonly maxAttempts?: number;
  /** Observes each failure that will be retried, with the delay before the next attempt. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn` until it resolves, sleeping a backoff delay between failures. Rejects with the last
 * error when `retryIf` says no or `maxAttempts` is used up, and with the abort reason when
 * `signal` aborts (during `fn` the attempt itself decides how to react to the signal it gets).
 *
 * @example
 * ```ts
 * const kv = await retry((attempt, signal) => client.get(key, { signal }), {
 *   signal, maxAttempts: 5, retryIf: (e) => !asStreamingError(e).isUnrecoverable(),
 * });
 * ```
 */
export async function retry<T>(
  fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const { signal, retryIf = () => true, maxAttempts = Number.POSITIVE_INFINITY, onRetry } = options;
  if (!(maxAttempts >= 1)) throw new RangeError(`retry maxAttempts must be >= 1, got ${maxAttempts}`);
  const backoff = options.backoff instanceof Backoff ? options.backoff : new Backoff(options.backoff);
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await fn(attempt, signal);
    } catch (error) {
      // An abort during the attempt wins over the attempt's own error: the caller asked to stop.
      throwIfAborted(signal);
      if (attempt >= maxAttempts || !retryIf(error, attempt)) throw error;
      const delayMs = backoff.next();
      onRetry?.(error, attempt, delayMs);
      await abortableSleep(delayMs, signal);
    }
  }
}
