import { StreamingError } from '../errors/index.js';
import { decodeUint64, MAX_INT64 } from './base36.js';
import { parseWalName, WalName } from './wal-name.js';

/**
 * The proto shape of a `milvus.proto.common.MessageID` as proto-loader produces and accepts it
 * (`keepCase`, `enums: String`): `WAL_name` is the enum name or its number.
 */
export interface MessageIdProto {
  id: string;
  WAL_name: 'RocksMQ';
}

/** What {@link MessageId.fromProto} accepts: a decoded MessageID, fields possibly absent. */
export interface MessageIdProtoLike {
  id?: string | null;
  WAL_name?: string | number | null;
}

const BYTES = 8;

/**
 * The position of a message in one pchannel's WAL: an int64 offset, strictly increasing across
 * terms and restarts. Marshalled exactly like a Milvus RocksMQ id (base-36 text of the offset,
 * `WAL_name` = RocksMQ), so Milvus clients decode it with their existing codec.
 *
 * Offsets are non-negative: Milvus writes RocksMQ ids with `FormatInt` but reads them with
 * `ParseUint`, so a negative offset could not round-trip through a Go peer.
 *
 * Instances are immutable and compared by value ({@link equals}, {@link compare}); never use `===`.
 *
 * @example
 * ```ts
 * const id = MessageId.of(12345n);
 * id.marshal();                 // '9ix'
 * MessageId.unmarshal('9ix');   // MessageId(12345)
 * id.toBytes();                 // 8-byte big-endian LevelDB key, ordered like the offsets
 * ```
 */
export class MessageId {
  /** The smallest id (offset 0). */
  static readonly MIN: MessageId = new MessageId(0n);
  /** The largest id (offset 2^63 - 1). */
  static readonly MAX: MessageId = new MessageId(MAX_INT64);
  /** The WAL name these ids report in their proto form. */
  static readonly WAL_NAME = WalName.RocksMQ;

  readonly offset: bigint;
  #marshalled: string | undefined;

  private constructor(offset: bigint) {
    this.offset = offset;
  }

  /** The id of an offset in `[0, 2^63)`. */
  static of(offset: bigint | number): MessageId {
    let value: bigint;
    if (typeof offset === 'number') {
      if (!Number.isSafeInteger(offset)) {
        throw StreamingError.invalidArgument('message id', `offset must be a safe integer, got ${offset}`);
      }
      value = BigInt(offset);
    } else if (typeof offset === 'bigint') {
      value = offset;
    } else {
      throw StreamingError.invalidArgument('message id', `offset must be a bigint, got ${typeof offset}`);
    }
    if (value < 0n || value > MAX_INT64) {
      throw StreamingError.invalidArgument('message id', `offset must be in [0, 2^63), got ${value}`);
    }
    return new MessageId(value);
  }

  /**
   * Reads the RocksMQ text form (base 36, as Go's `ParseUint` reads it).
   *
   * @throws StreamingError INVAILD_ARGUMENT naming `message id` for empty, non base-36 or
   *   out-of-range text.
   */
  static unmarshal(text: string, field = 'message id'): MessageId {
    const value = decodeUint64(text, field);
    if (value > MAX_INT64) {
      throw StreamingError.invalidArgument(field, `${JSON.stringify(text)} is beyond the int64 offset range`);
    }
    return new MessageId(value);
  }

  /**
   * Reads a proto `MessageID`. `WAL_name` may be the enum name or number; Unknown (0, also what
   * an absent field decodes to) falls back to this service's WAL, as Milvus falls back to the
   * process default. Any other WAL's id is rejected.
   */
  static fromProto(proto: MessageIdProtoLike | null | undefined, field = 'message id'): MessageId {
    if (proto === null || proto === undefined || typeof proto !== 'object') {
      throw StreamingError.invalidArgument(field, 'is missing');
    }
    const wal = parseWalName(proto.WAL_name, `${field}.WAL_name`);
    if (wal !== WalName.RocksMQ && wal !== WalName.Unknown) {
      throw StreamingError.invalidArgument(
        `${field}.WAL_name`,
        `${WalName[wal]} ids are not supported, this service reads RocksMQ ids only`,
      );
    }
    if (typeof proto.id !== 'string') throw StreamingError.invalidArgument(`${field}.id`, 'is missing');
    return MessageId.unmarshal(proto.id, `${field}.id`);
  }

  /** Reads the 8-byte big-endian key form written by {@link toBytes}. */
  static fromBytes(bytes: Uint8Array, field = 'message id'): MessageId {
    if (!(bytes instanceof Uint8Array) || bytes.length !== BYTES) {
      throw StreamingError.invalidArgument(field, `must be ${BYTES} bytes, got ${bytes?.length ?? typeof bytes}`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, BYTES);
    const value = view.getBigUint64(0, false);
    if (value > MAX_INT64) throw StreamingError.invalidArgument(field, 'has the sign bit set');
    return new MessageId(value);
  }

  /** -1, 0 or 1 as this id is before, equal to or after `other`. */
  compare(other: MessageId): -1 | 0 | 1 {
    return this.offset < other.offset ? -1 : this.offset > other.offset ? 1 : 0;
  }
  equals(other: MessageId): boolean {
    return this.offset === other.offset;
  }
  lt(other: MessageId): boolean {
    return this.offset < other.offset;
  }
  lte(other: MessageId): boolean {
    return this.offset <= other.offset;
  }
  gt(other: MessageId): boolean {
    return this.offset > other.offset;
  }
  gte(other: MessageId): boolean {
    return this.offset >= other.offset;
  }

  /** The id right after this one. */
  next(): MessageId {
    return MessageId.of(this.offset + 1n);
  }

  /** The RocksMQ text form: lowercase base 36 of the offset (`12345` → `9ix`). */
  marshal(): string {
    // Cached: the same id is marshalled for `_lc`, the proto and dedup keys.
    return (this.#marshalled ??= this.offset.toString(36));
  }

  /** The proto `MessageID` in proto-loader's `enums: String` shape. */
  toProto(): MessageIdProto {
    return { id: this.marshal(), WAL_name: 'RocksMQ' };
  }

  /** 8-byte big-endian form; byte order equals numeric order, so it serves as a LevelDB key. */
  toBytes(): Buffer {
    const bytes = Buffer.allocUnsafe(BYTES);
    bytes.writeBigUInt64BE(this.offset, 0);
    return bytes;
  }

  /** Decimal offset, for logs (as Milvus' `rmqID.String()`). */
  toString(): string {
    return this.offset.toString();
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Orders ids ascending; handy for `Array.prototype.sort`. */
export function compareMessageIds(a: MessageId, b: MessageId): number {
  return a.compare(b);
}
