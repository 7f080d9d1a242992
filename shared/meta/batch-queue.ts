/**
 * The hand-off between a watch's producer (an etcd stream, or the embedded store's write path)
 * and its one consumer (the `for await` loop). The producer never waits: it pushes and checks
 * `size` against its own bound (the etcd watch pauses its stream, the embedded watch falls back
 * to replaying history), so a slow consumer cannot block writers.
 */

/** An unbounded single-consumer async FIFO with an end state. */
export class BatchQueue<T> {
  #items: T[] = [];
  #head = 0;
  #waiter: { resolve: () => void } | undefined;
  #ended = false;
  #error: unknown;

  get size(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(item: T): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#wake();
  }

  /** The oldest buffered item, without taking it. */
  peek(): T | undefined {
    return this.size > 0 ? this.#items[this.#head] : undefined;
  }

  /** Drops everything buffered (the producer will re-deliver it another way). */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  /** Ends the queue: buffered items are still delivered, then `next()` returns done, or rejects
   *  with `error` when one is given. Only the first call counts. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake();
  }

  /** Wakes a waiting `next()` without an item, so the consumer can re-check other state. */
  poke(): void {
    this.#wake();
  }

  /** The next item; `undefined` when the queue is empty (after waiting, if `wait` is set). */
  async take(wait: boolean): Promise<{ item: T } | { done: true } | undefined> {
    for (;;) {
      if (this.size > 0) {
        const item = this.#items[this.#head] as T;
        this.#head += 1;
        if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        return { item };
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return { done: true };
      }
      if (!wait) return undefined;
      await new Promise<void>((resolve) => (this.#waiter = { resolve }));
      // Woken by a push, an end or a poke: a poke returns so the caller re-checks its state.
      if (this.size === 0 && !this.#ended) return undefined;
    }
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve();
  }
}
