/**
 * Record blocks: how the LevelDB storage packs the records of one group-commit batch into a few
 * LevelDB values instead of one value per record.
 *
 * Why: LevelDB's cost here is per entry, not per byte or per fsync (about 20 µs of JS↔C++ and
 * memtable work per entry against one fsync per batch; peers-and-limits.md §2.2 measured one
 * 100 KiB value per 100 messages at ~3× the rate of one value per message). Each record inside a
 * block is still the exact Milvus RocksMQ value (`rmq-layout.ts`), so a block is only a frame
 * around what Milvus would store.
 *
 * Value layout (all integers big-endian):
 * ```
 * u8  version (= 1)
 * u32 count              records in the block, ≥ 1
 * u32 length × count     byte length of each record
 * …   records            concatenated, in offset order
 * ```
 * The LevelDB key holds the offset of the block's LAST record, so a forward seek to the first key
 * ≥ an offset lands on the block that contains that offset. The first offset is `last − count + 1`.
 */
import { StreamingError } from '../../../shared/errors/index.js';

const VERSION = 1;
const HEADER_BYTES = 5;
const LENGTH_BYTES = 4;

/**
 * Blocks are cut at this many bytes (a single larger record gets a block of its own). Not larger:
 * LevelDB copies every value into buffers of its own (batch, memtable), and on this machine values
 * of 64 KiB wrote ~15 % faster than 256 KiB and ~40 % faster than 1 MiB (fewer fresh pages to
 * fault in); the per-entry cost is still negligible at ~16 entries per MiB.
 */
export const BLOCK_TARGET_BYTES = 64 * 1024;
/** Blocks are also cut at this many records, which bounds the room kept for the header. */
export const BLOCK_MAX_RECORDS = 4096;

/**
 * Builds one block at a time, record by record, as appends arrive (the batch they belong to is
 * written later): each record is written in place into a buffer reused for every block, so
 * building a block allocates nothing. The header cannot be written first (the record count is
 * only known when the block is cut), so the buffer keeps room for the largest header in front of
 * the records and {@link seal} writes the real one right-aligned against them: the value is one
 * contiguous view, no copy.
 *
 * @example
 * ```ts
 * if (!builder.fits(size)) { emit(builder.seal()); builder.reset(); }
 * const at = builder.reserve(size);
 * builder.recordWritten(writeRecord(builder.buffer, at));
 * ```
 */
export class BlockBuilder {
  readonly #targetBytes: number;
  readonly #maxRecords: number;
  /** Room in front of the records for the largest header. */
  readonly #headerRoom: number;
  readonly #lengths: Uint32Array;
  #standard: Buffer | undefined;
  #buffer: Buffer | undefined;
  #count = 0;
  #dataEnd: number;
  #reserved = -1;

  constructor(targetBytes: number = BLOCK_TARGET_BYTES, maxRecords: number = BLOCK_MAX_RECORDS) {
    this.#targetBytes = targetBytes;
    this.#maxRecords = maxRecords;
    this.#headerRoom = HEADER_BYTES + LENGTH_BYTES * maxRecords;
    this.#lengths = new Uint32Array(maxRecords);
    this.#dataEnd = this.#headerRoom;
  }

  /** Records in the block being built. */
  get count(): number {
    return this.#count;
  }

  /** The buffer {@link reserve} positions point into (valid until the next reserve). */
  get buffer(): Buffer {
    if (this.#buffer === undefined) throw new Error('no record reserved');
    return this.#buffer;
  }

  /** True if a record of `size` bytes may join this block (an empty block takes any record). */
  fits(size: number): boolean {
    return this.#count === 0 || (this.#count < this.#maxRecords && this.#dataEnd - this.#headerRoom + size <= this.#targetBytes);
  }

  /**
   * Makes room for the next record of at most `size` bytes and returns where in {@link buffer} to
   * write it; {@link recordWritten} must follow. The caller checked {@link fits}.
   */
  reserve(size: number): number {
    if (!this.fits(size)) throw new RangeError(`a record of ${size} bytes does not fit the block; seal it first`);
    if (this.#count === 0) this.#buffer = this.#bufferFor(size);
    this.#reserved = size;
    return this.#dataEnd;
  }

  /** The record reserved last was written and ends at `end` (within the room reserved). */
  recordWritten(end: number): void {
    const room = this.#reserved;
    if (room < 0) throw new Error('no record reserved');
    const size = end - this.#dataEnd;
    if (size < 0 || size > room) throw new RangeError(`record took ${size} bytes, ${room} were reserved`);
    this.#lengths[this.#count++] = size;
    this.#dataEnd = end;
    this.#reserved = -1;
  }

  /**
   * Writes the header and returns the block's value: a view of the buffer, valid until the next
   * {@link reset} (the storage copies it when it is queued). At least one record must be in.
   */
  seal(): Buffer {
    const out = this.#buffer;
    const count = this.#count;
    if (out === undefined || count === 0) throw new Error('an empty block cannot be sealed');
    const start = this.#headerRoom - HEADER_BYTES - LENGTH_BYTES * count;
    out[start] = VERSION;
    out.writeUInt32BE(count, start + 1);
    let at = start + HEADER_BYTES;
    for (let i = 0; i < count; i++, at += LENGTH_BYTES) out.writeUInt32BE(this.#lengths[i] as number, at);
    return out.subarray(start, this.#dataEnd);
  }

  /** Starts the next block (in the same buffer). */
  reset(): void {
    this.#count = 0;
    this.#dataEnd = this.#headerRoom;
    this.#reserved = -1;
    this.#buffer = undefined;
  }

  #bufferFor(firstRecordBytes: number): Buffer {
    const bytes = this.#headerRoom + Math.max(this.#targetBytes, firstRecordBytes);
    // A block whose first record is over the target gets a one-off buffer.
    if (firstRecordBytes > this.#targetBytes) return Buffer.allocUnsafe(bytes);
    this.#standard ??= Buffer.allocUnsafe(bytes);
    return this.#standard;
  }
}

/**
 * A stored block, read lazily: the header is checked when it is parsed, records are sliced out
 * (views into the value, no copy) when asked for.
 */
export class RecordBlock {
  /** Offset of the first record. */
  readonly firstOffset: bigint;
  /** Offset of the last record (the key). */
  readonly lastOffset: bigint;
  readonly count: number;
  readonly #value: Buffer;
  /** Byte position of the next record {@link next} returns, and its index. */
  #dataAt: number;
  #index = 0;

  /**
   * Parses the header of a stored block.
   *
   * @throws StreamingError INVAILD_ARGUMENT when the header is malformed or does not add up.
   */
  constructor(lastOffset: bigint, value: Buffer) {
    if (value.length < HEADER_BYTES || value[0] !== VERSION) throw malformed(`unknown block version ${value[0] ?? 'missing'}`);
    const count = value.readUInt32BE(1);
    const dataStart = HEADER_BYTES + LENGTH_BYTES * count;
    if (count === 0 || dataStart > value.length) throw malformed(`record count ${count} does not fit ${value.length} bytes`);
    let total = dataStart;
    for (let i = 0; i < count; i++) total += value.readUInt32BE(HEADER_BYTES + LENGTH_BYTES * i);
    if (total !== value.length) throw malformed(`record lengths add up to ${total} bytes, the block has ${value.length}`);
    this.lastOffset = lastOffset;
    this.firstOffset = lastOffset - BigInt(count - 1);
    this.count = count;
    this.#value = value;
    this.#dataAt = dataStart;
  }

  /** Records not yet returned by {@link next}. */
  get remaining(): number {
    return this.count - this.#index;
  }

  /** Offset of the record the next {@link next} returns. */
  get nextOffset(): bigint {
    return this.firstOffset + BigInt(this.#index);
  }

  /** Skips records so that the next one returned is at `offset` (no-op when already at or past it). */
  skipTo(offset: bigint): void {
    const target = offset - this.firstOffset;
    if (target <= BigInt(this.#index)) return;
    const index = target >= BigInt(this.count) ? this.count : Number(target);
    while (this.#index < index) this.#dataAt += this.#lengthOf(this.#index++);
  }

  /** The next record (a view into the block), or undefined past the last. */
  next(): Buffer | undefined {
    if (this.#index >= this.count) return undefined;
    const start = this.#dataAt;
    this.#dataAt += this.#lengthOf(this.#index++);
    return this.#value.subarray(start, this.#dataAt);
  }

  #lengthOf(index: number): number {
    return this.#value.readUInt32BE(HEADER_BYTES + LENGTH_BYTES * index);
  }
}

function malformed(problem: string): StreamingError {
  return StreamingError.invalidArgument('record block', problem);
}
