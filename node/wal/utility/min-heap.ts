/**
 * A binary min-heap ordered by a caller-supplied `less`. The reorder buffer, the ack manager and
 * the last-confirmed manager each keep one (Milvus `typeutil.Heap`).
 *
 * `less` must be a strict weak order; with ties the pop order among equal elements is
 * unspecified, so callers that need a total order break ties themselves (the reorder buffer
 * compares message ids after time ticks).
 */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  /** Number of elements. */
  get size(): number {
    return this.#items.length;
  }

  /** The smallest element, undefined when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an element: O(log n). */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(items[i] as T, items[parent] as T)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the smallest element, undefined when empty: O(log n). */
  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0] as T;
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  /** Removes every element. */
  clear(): void {
    this.#items.length = 0;
  }

  /** The elements in heap (not sorted) order, for inspection. */
  values(): readonly T[] {
    return this.#items;
  }

  #siftDown(start: number): void {
    const items = this.#items;
    const n = items.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      let smallest = left;
      if (right < n && this.#less(items[right] as T, items[left] as T)) smallest = right;
      if (!this.#less(items[smallest] as T, items[i] as T)) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const tmp = items[a] as T;
    items[a] = items[b] as T;
    items[b] = tmp;
  }
}
