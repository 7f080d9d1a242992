import { StreamingError } from '../errors/index.js';

/**
 * Base-36 text form of 64-bit integers, as Go's `strconv.FormatUint/FormatInt(v, 36)` writes it
 * and `strconv.ParseUint/ParseInt(s, 36, 64)` reads it. Milvus uses it for integer properties
 * (`_tt`, `_btt`, `_wt`) and for RocksMQ/Kafka MessageIDs.
 *
 * Writing: lowercase digits `0-9a-z`, a leading `-` for negative int64, no padding.
 * Reading follows Go exactly: upper- and lowercase letters are accepted, leading zeros are
 * accepted, a sign (`+`/`-`) only for signed values; empty strings, other characters and values
 * outside the 64-bit range are rejected.
 */

/** Largest uint64. */
export const MAX_UINT64 = (1n << 64n) - 1n;
/** Largest int64. */
export const MAX_INT64 = (1n << 63n) - 1n;
/** Smallest int64. */
export const MIN_INT64 = -(1n << 63n);

const DIGITS = /^[0-9a-zA-Z]+$/;
/** 36^10 < 2^53, so ten base-36 digits always parse exactly with `parseInt`. */
const CHUNK = 10;
const CHUNK_SCALE = 36n ** BigInt(CHUNK);

/** Encodes a uint64 (`0 ≤ value < 2^64`) as lowercase base 36. */
export function encodeUint64(value: bigint, field = 'uint64 value'): string {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT64) {
    throw StreamingError.invalidArgument(field, `must be a bigint in [0, 2^64), got ${String(value)}`);
  }
  return value.toString(36);
}

/** Encodes an int64 (`-2^63 ≤ value < 2^63`) as lowercase base 36 with a `-` sign if negative. */
export function encodeInt64(value: bigint, field = 'int64 value'): string {
  if (typeof value !== 'bigint' || value < MIN_INT64 || value > MAX_INT64) {
    throw StreamingError.invalidArgument(field, `must be a bigint in [-2^63, 2^63), got ${String(value)}`);
  }
  // bigint.toString(36) already writes `-` plus the magnitude, which is Go's FormatInt form.
  return value.toString(36);
}

/**
 * Decodes a base-36 uint64. `field` names the value in the error (e.g. the property key `_tt`).
 *
 * @throws StreamingError INVAILD_ARGUMENT for empty input, a sign, a non base-36 character or
 *   a value ≥ 2^64.
 */
export function decodeUint64(text: string, field = 'base-36 uint64'): bigint {
  const value = decodeMagnitude(text, field);
  if (value > MAX_UINT64) throw StreamingError.invalidArgument(field, `${quote(text)} overflows uint64`);
  return value;
}

/**
 * Decodes a base-36 int64 with an optional `+`/`-` sign.
 *
 * @throws StreamingError INVAILD_ARGUMENT for malformed input or a value outside the int64 range.
 */
export function decodeInt64(text: string, field = 'base-36 int64'): bigint {
  if (typeof text !== 'string') throw StreamingError.invalidArgument(field, `must be a string, got ${typeof text}`);
  const sign = text[0];
  const negative = sign === '-';
  const digits = negative || sign === '+' ? text.slice(1) : text;
  const magnitude = decodeMagnitude(digits, field, text);
  const value = negative ? -magnitude : magnitude;
  if (value < MIN_INT64 || value > MAX_INT64) {
    throw StreamingError.invalidArgument(field, `${quote(text)} overflows int64`);
  }
  return value;
}

/** True if `text` is a base-36 uint64 this module would accept. */
export function isBase36Uint64(text: string): boolean {
  try {
    decodeUint64(text);
    return true;
  } catch {
    return false;
  }
}

function decodeMagnitude(digits: string, field: string, original: string = digits): bigint {
  if (typeof digits !== 'string') throw StreamingError.invalidArgument(field, `must be a string, got ${typeof digits}`);
  if (digits.length === 0) throw StreamingError.invalidArgument(field, `${quote(original)} has no digits`);
  if (!DIGITS.test(digits)) {
    throw StreamingError.invalidArgument(field, `${quote(original)} is not base-36 (only 0-9 and a-z allowed)`);
  }
  // Fast path: a time tick is 12 digits, an offset usually fewer than 10.
  if (digits.length <= CHUNK) return BigInt(parseInt(digits, 36));
  let start = digits.length % CHUNK || CHUNK;
  let value = BigInt(parseInt(digits.slice(0, start), 36));
  for (; start < digits.length; start += CHUNK) {
    value = value * CHUNK_SCALE + BigInt(parseInt(digits.slice(start, start + CHUNK), 36));
    // Stop early on absurdly long input instead of building a huge bigint.
    if (value > MAX_UINT64) return value;
  }
  return value;
}

function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(shown);
}
