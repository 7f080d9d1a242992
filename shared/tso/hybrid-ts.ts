import { StreamingError } from '../errors/index.js';

/**
 * Hybrid (TSO) timestamps, as Milvus composes them: the wall-clock milliseconds in the high bits
 * and an 18-bit logical counter in the low bits, `physicalMs << 18 | logical`, as an unsigned
 * 64-bit number. Today's values are about 4.6e17, far beyond 2^53, so they are `bigint` everywhere.
 */

/** Number of low bits that hold the logical counter. */
export const LOGICAL_BITS = 18n;
/** Number of distinct logical values per millisecond (2^18). */
export const LOGICAL_COUNT = 1 << 18;
/** Largest logical counter value (2^18 - 1). */
export const MAX_LOGICAL = LOGICAL_COUNT - 1;
/** Largest physical part that still fits a uint64 timestamp (2^46 - 1 ms, about year 4199). */
export const MAX_PHYSICAL_MS = (1n << (64n - LOGICAL_BITS)) - 1n;
/** Largest representable timestamp (2^64 - 1). */
export const MAX_TS = (1n << 64n) - 1n;

const LOGICAL_MASK = BigInt(MAX_LOGICAL);

/** The two halves of a hybrid timestamp. */
export interface ParsedTs {
  readonly physicalMs: bigint;
  readonly logical: number;
}

/**
 * Builds a hybrid timestamp from wall-clock milliseconds and a logical counter.
 *
 * @example
 * ```ts
 * composeTs(1_700_000_000_000, 3); // 445644800000000003n
 * ```
 */
export function composeTs(physicalMs: bigint | number, logical: number): bigint {
  const physical = toPhysical(physicalMs);
  if (!Number.isInteger(logical) || logical < 0 || logical > MAX_LOGICAL) {
    throw StreamingError.invalidArgument('logical', `must be an integer in [0, ${MAX_LOGICAL}], got ${logical}`);
  }
  return (physical << LOGICAL_BITS) | BigInt(logical);
}

/** Splits a hybrid timestamp into its physical milliseconds and logical counter. */
export function parseTs(ts: bigint): ParsedTs {
  assertTs(ts, 'ts');
  return { physicalMs: ts >> LOGICAL_BITS, logical: Number(ts & LOGICAL_MASK) };
}

/** The physical (wall-clock milliseconds) part of a timestamp. */
export function physicalMsOf(ts: bigint): bigint {
  assertTs(ts, 'ts');
  return ts >> LOGICAL_BITS;
}

/** The logical counter of a timestamp. */
export function logicalOf(ts: bigint): number {
  assertTs(ts, 'ts');
  return Number(ts & LOGICAL_MASK);
}

/** The wall-clock time of a timestamp (millisecond precision; the logical part is dropped). */
export function tsToDate(ts: bigint): Date {
  return new Date(Number(physicalMsOf(ts)));
}

/** The first timestamp of a wall-clock instant (logical part as given, 0 by default). */
export function tsFromDate(date: Date, logical = 0): bigint {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw StreamingError.invalidArgument('date', 'is an invalid Date');
  return composeTs(ms, logical);
}

/**
 * Moves the physical part of a timestamp by `ms` milliseconds, keeping the logical part (Milvus
 * `AddPhysicalDurationOnTs`, used e.g. for transaction expiry: `lastTimeTick + keepalive`).
 * The result saturates at {@link MAX_TS} instead of overflowing, so an "infinite" keepalive stays
 * infinite.
 */
export function addPhysicalMs(ts: bigint, ms: bigint | number): bigint {
  const { physicalMs, logical } = parseTs(ts);
  const delta = typeof ms === 'bigint' ? ms : toIntegerBigInt(ms, 'ms');
  const physical = physicalMs + delta;
  if (physical > MAX_PHYSICAL_MS) return MAX_TS;
  if (physical < 0n) throw StreamingError.invalidArgument('ms', `moves ts ${ts} before the epoch`);
  return (physical << LOGICAL_BITS) | BigInt(logical);
}

/** Milliseconds between the physical parts of two timestamps (`a - b`). */
export function physicalDiffMs(a: bigint, b: bigint): bigint {
  return physicalMsOf(a) - physicalMsOf(b);
}

/** True for a bigint in the uint64 range. */
export function isValidTs(ts: unknown): ts is bigint {
  return typeof ts === 'bigint' && ts >= 0n && ts <= MAX_TS;
}

function assertTs(ts: bigint, field: string): void {
  if (!isValidTs(ts)) {
    throw StreamingError.invalidArgument(field, `must be a bigint in the uint64 range, got ${String(ts)}`);
  }
}

function toPhysical(physicalMs: bigint | number): bigint {
  const physical = typeof physicalMs === 'bigint' ? physicalMs : toIntegerBigInt(physicalMs, 'physicalMs');
  if (physical < 0n || physical > MAX_PHYSICAL_MS) {
    throw StreamingError.invalidArgument('physicalMs', `must be in [0, ${MAX_PHYSICAL_MS}], got ${physical}`);
  }
  return physical;
}

function toIntegerBigInt(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value)) {
    throw StreamingError.invalidArgument(field, `must be a safe integer, got ${value}`);
  }
  return BigInt(value);
}
