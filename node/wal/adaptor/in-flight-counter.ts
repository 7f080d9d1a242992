/**
 * Counts operations in flight so a closing component can wait for them to settle (Milvus
 * `lifetime.Add` / `lifetime.Wait`).
 */
import { Deferred } from '../../../shared/index.js';

/** A counter of running operations with a "wait until none" promise. */
export class InFlightCounter {
  #count = 0;
  #drained: Deferred<void> | undefined;

  /** Operations running now. */
  get count(): number {
    return this.#count;
  }

  /** One more operation started; pair every call with {@link leave}. */
  enter(): void {
    this.#count++;
  }

  /** An operation settled. */
  leave(): void {
    this.#count--;
    if (this.#count === 0 && this.#drained !== undefined) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
  }

  /** Resolves once no operation runs (at once when none does). */
  drained(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    this.#drained ??= new Deferred<void>();
    return this.#drained.promise;
  }
}
