/**
 * The in-flight bound of one producer stream: a counting semaphore whose permits are taken when
 * the recv arm accepts a request (one per message; a batch takes one per message at once) and
 * given back when the send arm handed its answer to the call. Waiters are served in arrival order,
 * so a big batch is not starved by single messages behind it.
 */
import { abortReason } from '../../../shared/index.js';

interface Waiter {
  readonly count: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** See the module comment. */
export class AppendPermits {
  readonly capacity: number;
  #inUse = 0;
  readonly #waiters: Waiter[] = [];

  /** @throws RangeError unless `capacity` is an integer ≥ 1. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`permit capacity must be an integer >= 1, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Permits taken now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Acquisitions waiting for permits. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Takes `count` permits, waiting (in FIFO order) until they are free.
   *
   * @throws RangeError when `count` is not in [1, capacity]; the abort reason of `signal` (nothing
   *   is taken then).
   */
  acquire(count: number, signal: AbortSignal): Promise<void> {
    if (!Number.isSafeInteger(count) || count < 1 || count > this.capacity) {
      return Promise.reject(new RangeError(`cannot acquire ${count} of ${this.capacity} permits`));
    }
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (this.#waiters.length === 0 && this.#inUse + count <= this.capacity) {
      this.#inUse += count;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(abortReason(signal));
        // A big waiter leaving may let smaller ones behind it through.
        this.#grant();
      };
      const waiter: Waiter = {
        count,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Gives back `count` permits. */
  release(count: number): void {
    this.#inUse = Math.max(0, this.#inUse - count);
    this.#grant();
  }

  #grant(): void {
    for (let head = this.#waiters[0]; head !== undefined && this.#inUse + head.count <= this.capacity; head = this.#waiters[0]) {
      this.#waiters.shift();
      this.#inUse += head.count;
      head.resolve();
    }
  }
}
