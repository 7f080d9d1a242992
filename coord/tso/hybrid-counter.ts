/**
 * The in-memory half of the TSO: the last physical millisecond handed out and the next free
 * logical value in it, advanced by the wall clock but never backwards. Knows nothing of the
 * store; the allocator passes the persisted bound in.
 */
import { LOGICAL_COUNT, composeTs } from '../../shared/index.js';

/** A hybrid-timestamp counter over a wall clock (see the file comment). */
export class HybridCounter {
  readonly #now: () => number;
  /** Physical ms of the last allocation (or the start floor); -1 before {@link reset}. */
  #physical = -1n;
  /** Next free logical value within `#physical`. */
  #nextLogical = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The physical ms of the last allocation, or the floor set by {@link reset}. */
  get physicalMs(): bigint {
    return this.#physical;
  }

  /** Wall clock in whole ms; a broken reading counts as "no progress" rather than poisoning state. */
  clockMs(): bigint {
    const ms = Math.floor(this.#now());
    return Number.isSafeInteger(ms) && ms >= 0 ? BigInt(ms) : maxBigint(this.#physical, 0n);
  }

  /** Starts over at `floorMs` (logical 0): the next timestamp is at least `floorMs << 18`. */
  reset(floorMs: bigint): void {
    this.#physical = floorMs;
    this.#nextLogical = 0;
  }

  /**
   * Reserves `count` (1..2^18) consecutive timestamps in one millisecond, all with physical part
   * below `limitMs`, and returns the first; undefined (nothing reserved) when that would reach
   * `limitMs`. When the current millisecond's logical space is used up, the next millisecond is
   * taken instead of waiting for the clock.
   */
  take(count: number, limitMs: bigint): bigint | undefined {
    let physical = maxBigint(this.clockMs(), this.#physical);
    let logical = physical === this.#physical ? this.#nextLogical : 0;
    if (logical + count > LOGICAL_COUNT) {
      physical += 1n;
      logical = 0;
    }
    if (physical >= limitMs) return undefined;
    this.#physical = physical;
    this.#nextLogical = logical + count;
    return composeTs(physical, logical);
  }

  /** The greatest timestamp reserved so far, undefined before the first. */
  lastTaken(): bigint | undefined {
    return this.#nextLogical === 0 ? undefined : composeTs(this.#physical, this.#nextLogical - 1);
  }
}

/** The larger of two bigints. */
export function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
