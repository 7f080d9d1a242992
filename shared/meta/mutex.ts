/**
 * A minimal FIFO async lock for the embedded store's write path (every mutation is one
 * read-check-write critical section spanning awaits). Kept local to `shared/meta` so the store
 * has no dependency on other folders' internals.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  /** Number of holders plus waiters. */
  get pending(): number {
    return this.#pending;
  }

  /** Runs `fn` once every earlier caller has finished; releases also when `fn` throws. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending += 1;
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => this.#release(),
      () => this.#release(),
    );
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.#tail;
  }

  #release(): void {
    this.#pending -= 1;
  }
}
