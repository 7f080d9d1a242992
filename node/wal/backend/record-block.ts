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

/** Blocks are cut at this many bytes (a single larger record gets a block of its own). */
export const BLOCK_TARGET_BYTES = 256 * 1024;

/** Writes record `index` into `out` at `at` (exactly its size was reserved); returns the position past it. */
export type RecordWriter = (index: number, out: Buffer, at: number) => number;

/**
 * Packs records into blocks of about `targetBytes` each, in order, writing them straight into a
 * scratch buffer it keeps between batches: a batch allocates nothing for its blocks, because the
 * storage copies each value when it is queued (LevelDB's batch `put`). A block too large for the
 * scratch buffer (one record over the target) gets a buffer of its own.
 */
export class BlockEncoder {
  readonly #targetBytes: number;
  #scratch: Buffer | undefined;

  constructor(targetBytes: number = BLOCK_TARGET_BYTES) {
    this.#targetBytes = targetBytes;
  }

  /**
   * Encodes records `0 … sizes.length − 1`, stored at `firstOffset, firstOffset + 1, …`; calls
   * `emit` once per block. The value passed to `emit` is only valid during that call.
   */
  encode(firstOffset: bigint, sizes: readonly number[], write: RecordWriter, emit: (lastOffset: bigint, value: Buffer) => void): void {
    let start = 0;
    while (start < sizes.length) {
      // Extend the block while it stays within the target; the first record always goes in.
      let end = start + 1;
      let bytes = sizes[start] as number;
      while (end < sizes.length) {
        const next = sizes[end] as number;
        if (bytes + next > this.#targetBytes) break;
        bytes += next;
        end++;
      }
      const count = end - start;
      const total = HEADER_BYTES + LENGTH_BYTES * count + bytes;
      const out = this.#bufferFor(total);
      out[0] = VERSION;
      out.writeUInt32BE(count, 1);
      let lengthAt = HEADER_BYTES;
      let dataAt = HEADER_BYTES + LENGTH_BYTES * count;
      for (let i = start; i < end; i++) {
        const size = sizes[i] as number;
        out.writeUInt32BE(size, lengthAt);
        lengthAt += LENGTH_BYTES;
        const next = write(i, out, dataAt);
        if (next !== dataAt + size) throw new RangeError(`record ${i} took ${next - dataAt} bytes, ${size} were reserved`);
        dataAt = next;
      }
      emit(firstOffset + BigInt(end - 1), out.subarray(0, total));
      start = end;
    }
  }

  #bufferFor(bytes: number): Buffer {
    // Room for a full block of small records; larger blocks are one-offs.
    const scratchBytes = this.#targetBytes + HEADER_BYTES + LENGTH_BYTES * 1024;
    if (bytes > scratchBytes) return Buffer.allocUnsafe(bytes);
    this.#scratch ??= Buffer.allocUnsafe(scratchBytes);
    return this.#scratch;
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
