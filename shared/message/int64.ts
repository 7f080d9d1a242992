import { StreamingError } from '../errors/index.js';
import { MAX_INT64, MAX_UINT64, MIN_INT64 } from './base36.js';

/**
 * Reading 64-bit integers out of decoded protos. proto-loader with `longs: String` hands them over
 * as decimal strings; plain protobufjs may give numbers or `Long` objects. All become `bigint`.
 * Internal to shared/message.
 */

/** Anything with a decimal `toString()`, like protobufjs' `Long`. */
interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
  toString(): string;
}

const DECIMAL = /^-?[0-9]+$/;

/** Converts a decoded int64 field (absent = 0) to a bigint in the int64 range. */
export function int64FromProto(value: unknown, field: string): bigint {
  const result = toBigInt(value, field);
  if (result < MIN_INT64 || result > MAX_INT64) throw StreamingError.invalidArgument(field, `${result} overflows int64`);
  return result;
}

/** Converts a decoded uint64 field (absent = 0) to a bigint in the uint64 range. */
export function uint64FromProto(value: unknown, field: string): bigint {
  const result = toBigInt(value, field);
  if (result < 0n || result > MAX_UINT64) throw StreamingError.invalidArgument(field, `${result} is outside the uint64 range`);
  return result;
}

function toBigInt(value: unknown, field: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw StreamingError.invalidArgument(field, `${value} is not an exact integer`);
    return BigInt(value);
  }
  const text = typeof value === 'string' ? value : isLongLike(value) ? value.toString() : undefined;
  if (text === undefined || !DECIMAL.test(text)) {
    throw StreamingError.invalidArgument(field, `cannot read ${JSON.stringify(String(value))} as an integer`);
  }
  return BigInt(text);
}

function isLongLike(value: unknown): value is LongLike {
  return typeof value === 'object' && value !== null && 'low' in value && 'high' in value;
}
