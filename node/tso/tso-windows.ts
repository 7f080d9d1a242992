/**
 * The prefetched timestamp ranges of a {@link RemoteTsoAllocator}, and the rule that keeps what it
 * hands out strictly increasing: ranges are consumed in order, a range that cannot serve a request
 * is dropped (never revisited), and a new range is clipped to start after everything before it.
 */

/** One fetched range `[next, end)`. */
interface TsoRange {
  next: bigint;
  readonly end: bigint;
  /** When the range arrived (ms): older than the TTL means stale. */
  readonly receivedAt: number;
}

/** Ranges of timestamps fetched from the coordinator, oldest first. */
export class TsoWindows {
  readonly #ranges: TsoRange[] = [];
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Greatest timestamp handed out, or -1 before the first. */
  #lastIssued = -1n;

  /** @param ttlMs ranges older than this are dropped (so time ticks stay close to the present). */
  constructor(ttlMs: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The greatest timestamp handed out so far, if any. */
  get lastIssued(): bigint | undefined {
    return this.#lastIssued < 0n ? undefined : this.#lastIssued;
  }

  /** Usable timestamps left (in ranges that are not stale). */
  remaining(): bigint {
    this.#dropStale();
    let n = 0n;
    for (const r of this.#ranges) n += r.end - r.next;
    return n;
  }

  /**
   * Adds `[first, first + count)`, clipped to start after every timestamp already handed out or
   * queued (a coordinator answering out of order must not make us go back). Returns how many
   * timestamps of it are usable.
   */
  add(first: bigint, count: number): bigint {
    const tail = this.#ranges.at(-1);
    const floor = maxBigint(this.#lastIssued + 1n, tail?.end ?? 0n);
    const next = maxBigint(first, floor);
    const end = first + BigInt(count);
    if (next >= end) return 0n;
    this.#ranges.push({ next, end, receivedAt: this.#now() });
    return end - next;
  }

  /**
   * Takes `count` consecutive timestamps and returns the first, or undefined when no range has
   * that many left. Ranges in front that are too short are dropped, which wastes a few
   * timestamps but keeps every result greater than the previous one.
   */
  take(count: number): bigint | undefined {
    this.#dropStale();
    const want = BigInt(count);
    while (this.#ranges.length > 0) {
      const range = this.#ranges[0]!;
      if (range.end - range.next >= want) {
        const first = range.next;
        range.next += want;
        this.#lastIssued = first + want - 1n;
        if (range.next === range.end) this.#ranges.shift();
        return first;
      }
      this.#ranges.shift();
    }
    return undefined;
  }

  /** Drops every range: later timestamps come from a fetch made after this call. */
  clear(): void {
    this.#ranges.length = 0;
  }

  /** Age in ms of the oldest usable range, or undefined when there is none. */
  oldestAgeMs(): number | undefined {
    this.#dropStale();
    const head = this.#ranges[0];
    return head === undefined ? undefined : this.#now() - head.receivedAt;
  }

  #dropStale(): void {
    const now = this.#now();
    while (this.#ranges.length > 0) {
      const head = this.#ranges[0]!;
      if (head.next < head.end && now - head.receivedAt <= this.#ttlMs) return;
      this.#ranges.shift();
    }
  }
}

function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
