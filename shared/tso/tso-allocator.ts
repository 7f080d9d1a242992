import { StreamingError } from '../errors/index.js';
import { composeTs, LOGICAL_COUNT, MAX_PHYSICAL_MS, parseTs } from './hybrid-ts.js';

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
}

/** Options of {@link LocalTsoAllocator}. */
export interface LocalTsoAllocatorOptions {
  /** Wall clock in milliseconds; `Date.now` by default. Tests pass a fake clock. */
  readonly now?: () => number;
  /** Every timestamp handed out is strictly greater than this one (e.g. the last persisted tick). */
  readonly after?: bigint;
}

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
  #physical: bigint;
  /** Next logical value to hand out within `#physical`. */
  #nextLogical: number;

  constructor(options: LocalTsoAllocatorOptions = {}) {
    this.#now = options.now ?? Date.now;
    if (options.after === undefined) {
      this.#physical = -1n;
      this.#nextLogical = 0;
    } else {
      const { physicalMs, logical } = parseTs(options.after);
      this.#physical = physicalMs;
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

  /** Synchronous form of {@link allocate}: the allocator never waits for anything. */
  allocateSync(count = 1): bigint {
    if (!Number.isInteger(count) || count < 1 || count > LOGICAL_COUNT) {
      throw StreamingError.invalidArgument('count', `must be an integer in [1, ${LOGICAL_COUNT}], got ${count}`);
    }
    const now = this.#readClock();
    if (now > this.#physical) {
      this.#physical = now;
      this.#nextLogical = 0;
    }
    if (this.#nextLogical + count > LOGICAL_COUNT) {
      // The logical space of this millisecond is used up: borrow the next millisecond rather
      // than wait for the clock, so allocation never blocks.
      this.#physical += 1n;
      this.#nextLogical = 0;
    }
    if (this.#physical > MAX_PHYSICAL_MS) {
      throw StreamingError.inner('TSO physical time overflow');
    }
    const first = composeTs(this.#physical, this.#nextLogical);
    this.#nextLogical += count;
    return first;
  }

  /** The greatest timestamp handed out so far (or the `after` floor), undefined if neither. */
  lastAllocated(): bigint | undefined {
    if (this.#physical < 0n || this.#nextLogical === 0) return undefined;
    return composeTs(this.#physical, this.#nextLogical - 1);
  }

  #readClock(): bigint {
    const ms = Math.floor(this.#now());
    // A broken clock must not push timestamps backwards or poison them; keep the last physical.
    if (!Number.isSafeInteger(ms) || ms < 0) return this.#physical;
    return BigInt(ms);
  }
}
