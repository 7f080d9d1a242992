/**
 * AbortSignal helpers. The house rule (STYLE §5) is to cancel with an `AbortSignal` whose `reason`
 * is a `StreamingError` (the TypeScript form of Go's `context.WithCancelCause`), so every helper
 * here rejects with the signal's reason rather than a generic "aborted" error: the cause of the
 * cancellation reaches the caller and the logs unchanged.
 */
import { StreamingCode, StreamingError } from '../errors/index.js';

/**
 * The error a cancelled operation should fail with: the signal's `reason` when it is an `Error`
 * (a `StreamingError`, or the `AbortError` DOMException of a bare `controller.abort()`), otherwise
 * an ON_SHUTDOWN `StreamingError` that carries the odd reason as its `cause`.
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  // Keep the original value as `cause` for debugging, but never reject with a non-Error.
  return new StreamingError(StreamingCode.ON_SHUTDOWN, `operation aborted: ${String(reason)}`, { cause: reason });
}

/** Throws {@link abortReason} when `signal` is already aborted; does nothing otherwise. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Resolves after `ms` milliseconds, or rejects with the abort reason as soon as `signal` aborts
 * (the timer is cleared, nothing leaks).
 *
 * @example
 * ```ts
 * await abortableSleep(backoff.next(), signal);
 * ```
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, unless `signal` aborts first, in which case it rejects with the abort
 * reason. The underlying operation is not cancelled (it cannot be, in general); its eventual
 * result or rejection is observed and dropped, so it never becomes an unhandled rejection.
 */
export function raceAbort<T>(promise: PromiseLike<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return Promise.resolve(promise);
  if (signal.aborted) {
    Promise.resolve(promise).catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A signal derived from several others; see {@link anySignal}. */
export interface CombinedSignal {
  /** Aborts (with the first source's reason) as soon as any source aborts. */
  readonly signal: AbortSignal;
  /** Detaches from the sources. Call it when the operation finishes so long-lived sources don't
   *  accumulate listeners. Safe to call more than once. */
  dispose(): void;
}

/**
 * Combines signals: the result aborts when the first of `signals` aborts, with that signal's
 * reason. `undefined` entries are skipped, so optional signals can be passed straight through.
 *
 * Unlike `AbortSignal.any`, the listeners on the sources are removed by `dispose()` (or on the
 * first abort), which matters on the hot path where a server-lifetime signal is combined with a
 * per-request one millions of times.
 *
 * @example
 * ```ts
 * const combined = anySignal([serverSignal, options.signal]);
 * try { await work(combined.signal); } finally { combined.dispose(); }
 * ```
 */
export function anySignal(signals: Iterable<AbortSignal | undefined>): CombinedSignal {
  const controller = new AbortController();
  const sources: AbortSignal[] = [];
  for (const s of signals) if (s) sources.push(s);

  const already = sources.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }

  const listeners = new Map<AbortSignal, () => void>();
  const dispose = (): void => {
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    listeners.clear();
  };
  for (const source of sources) {
    const listener = (): void => {
      dispose();
      controller.abort(source.reason);
    };
    listeners.set(source, listener);
    source.addEventListener('abort', listener, { once: true });
  }
  return { signal: controller.signal, dispose };
}
