/**
 * A one-value mailbox where the newest value replaces an unread one: the bridge between an rxjs
 * state stream (no backpressure) and a send loop that waits for its writes (STYLE §4). However
 * fast the state changes and however slow the consumer, the slot holds at most one value, and the
 * consumer always gets the latest.
 */
import { abortReason } from '../../shared/index.js';

/** See the module comment. */
export class LatestSlot<T> {
  #value: { readonly v: T } | undefined;
  #error: Error | undefined;
  #done = false;
  #wakeUp: (() => void) | undefined;

  /** Stores `v`, replacing an unread value, and wakes the consumer. Ignored once ended. */
  set(v: T): void {
    if (this.#done || this.#error !== undefined) return;
    this.#value = { v };
    this.#wake();
  }

  /** The producer failed: the consumer's next `take` (after any unread value) rejects with `error`. */
  fail(error: Error): void {
    this.#error ??= error;
    this.#wake();
  }

  /** The producer completed: `take` resolves `undefined` once the unread value is taken. */
  complete(): void {
    this.#done = true;
    this.#wake();
  }

  /**
   * The latest unread value, waiting for one if needed; `undefined` after `complete()`.
   *
   * A waiting consumer is only woken, and reads the slot when it runs again (a microtask later).
   * So several values set in one synchronous burst (an rxjs `combineLatest` emitting an
   * intermediate pair, then the final one) reach it as the last one only.
   *
   * @throws the error given to `fail`; the abort reason of `signal`.
   */
  async take(signal: AbortSignal): Promise<T | undefined> {
    for (;;) {
      if (signal.aborted) throw abortReason(signal);
      const value = this.#value;
      if (value !== undefined) {
        this.#value = undefined;
        return value.v;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#done) return undefined;
      await this.#changed(signal);
    }
  }

  #changed(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#wakeUp = undefined;
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#wakeUp = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
    });
  }

  #wake(): void {
    const wakeUp = this.#wakeUp;
    this.#wakeUp = undefined;
    wakeUp?.();
  }
}
