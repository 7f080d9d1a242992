import { StreamingError } from '../errors/index.js';
import { composeTs, LOGICAL_BITS, LOGICAL_COUNT, MAX_PHYSICAL_MS, parseTs } from './hybrid-ts.js';

/**
 * Hands out hybrid timestamps. `allocate(count)` reserves `count` consecutive timestamps
 * `first, first + 1, …, first + count - 1` and resolves with `first`; every later call returns
 * timestamps strictly greater than every earlier one.
 *
 * The coordinator's TSO (persisted upper bound) and {@link LocalTsoAllocator} implement it; nodes
 * take timestamps in batches through it.
 */
export interface TsoAllocator {
  allocate(count?: number): Promise<bigint>;
  /**
   * Optional synchronous form of {@link allocate} for allocators that often have timestamps at
   * hand (a local clock, a prefetched window): the first timestamp, or undefined when the call
   * would have to wait (then call `allocate`). Same ordering rules: a timestamp returned here is
   * greater than every one handed out before, by either method. The WAL's ack manager uses it to
   * allocate a time tick without a promise per append.
   *
   * @throws like `allocate` rejects, for errors that need no waiting (bad count, overflow, closed).
   */
  tryAllocate?(count?: number): bigint | undefined;
}

/** Options of {@link LocalTsoAllocator}. */
export interface LocalTsoAllocatorOptions {
  /** Wall clock in milliseconds; `Date.now` by default. Tests pass a fake clock. */
  readonly now?: () => number;
  /** Every timestamp handed out is strictly greater than this one (e.g. the last persisted tick). */
  readonly after?: bigint;
}

const MAX_PHYSICAL_MS_NUMBER = Number(MAX_PHYSICAL_MS);

/**
 * An in-process TSO for tests and standalone mode: physical = max(now, last physical); the
 * logical counter increases within a millisecond, and when it would overflow the physical part
 * moves one millisecond ahead of the clock. Never goes back, even if the clock does.
 *
 * A batch never straddles two milliseconds, so `first + count - 1` is a valid timestamp of the
 * same physical millisecond (the same rule Milvus' TSO follows).
 */
export class LocalTsoAllocator implements TsoAllocator {
  readonly #now: () => number;
  /** Milliseconds; a number is exact (≤ 2^46) and spares a bigint per clock read. */
  #physical: number;
  /**
   * The timestamp `#nextLogical` stands for, once computed for this millisecond: handing one out
   * then costs one bigint (the successor), not a conversion and a sum.
   */
  #nextTs: bigint | undefined;
  /** Next logical value to hand out within `#physical`. */
  #nextLogical: number;

  constructor(options: LocalTsoAllocatorOptions = {}) {
    this.#now = options.now ?? Date.now;
    if (options.after === undefined) {
      this.#physical = -1;
      this.#nextLogical = 0;
    } else {
      const { physicalMs, logical } = parseTs(options.after);
      this.#physical = Number(physicalMs);
      this.#nextLogical = logical + 1;
    }
  }

  /** {@inheritDoc TsoAllocator.allocate} */
  allocate(count = 1): Promise<bigint> {
    try {
      return Promise.resolve(this.allocateSync(count));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** {@inheritDoc TsoAllocator.tryAllocate} Never undefined: this allocator never waits. */
  tryAllocate(count = 1): bigint {
    return this.allocateSync(count);
  }

  /** Synchronous form of {@link allocate}: the allocator never waits for anything. */
  allocateSync(count = 1): bigint {
    if (!Number.isInteger(count) || count < 1 || count > LOGICAL_COUNT) {
      throw StreamingError.invalidArgument('count', `must be an integer in [1, ${LOGICAL_COUNT}], got ${count}`);
    }
    const now = this.#readClock();
    if (now > this.#physical) this.#moveTo(now);
    if (this.#nextLogical + count > LOGICAL_COUNT) {
      // The logical space of this millisecond is used up: borrow the next millisecond rather
      // than wait for the clock, so allocation never blocks.
      this.#moveTo(this.#physical + 1);
    }
    if (this.#physical > MAX_PHYSICAL_MS_NUMBER) {
      throw StreamingError.inner('TSO physical time overflow');
    }
    const first = (this.#nextTs ??= (BigInt(this.#physical) << LOGICAL_BITS) + BigInt(this.#nextLogical));
    this.#nextLogical += count;
    this.#nextTs = first + (count === 1 ? 1n : BigInt(count));
    return first;
  }

  /** The greatest timestamp handed out so far (or the `after` floor), undefined if neither. */
  lastAllocated(): bigint | undefined {
    if (this.#physical < 0 || this.#nextLogical === 0) return undefined;
    return composeTs(this.#physical, this.#nextLogical - 1);
  }

  #moveTo(physical: number): void {
    this.#physical = physical;
    this.#nextTs = undefined;
    this.#nextLogical = 0;
  }

  #readClock(): number {
    const ms = Math.floor(this.#now());
    // A broken clock must not push timestamps backwards or poison them; keep the last physical.
    if (!Number.isSafeInteger(ms) || ms < 0) return this.#physical;
    return ms;
  }
}
