import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_TARGET_BYTES, BlockBuilder, RecordBlock } from '../../../../../node/wal/backend/record-block.js';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';

/** One encoded block: the offset of its last record (the key) and a copy of its value. */
interface EncodedBlock {
  readonly lastOffset: bigint;
  readonly value: Buffer;
}

/** Packs ready-made `records` into blocks as a batch does, copying each value out of the builder's buffer. */
function encodeBlocks(firstOffset: bigint, records: readonly Buffer[], targetBytes: number = BLOCK_TARGET_BYTES, maxRecords?: number): EncodedBlock[] {
  const blocks: EncodedBlock[] = [];
  const builder = new BlockBuilder(targetBytes, maxRecords);
  const cut = (lastOffset: bigint): void => {
    blocks.push({ lastOffset, value: Buffer.from(builder.seal()) });
    builder.reset();
  };
  records.forEach((record, i) => {
    if (!builder.fits(record.length)) cut(firstOffset + BigInt(i) - 1n);
    const at = builder.reserve(record.length);
    builder.recordWritten(at + record.copy(builder.buffer, at));
  });
  if (builder.count > 0) cut(firstOffset + BigInt(records.length) - 1n);
  return blocks;
}

function records(lengths: readonly number[]): Buffer[] {
  return lengths.map((length, i) => Buffer.alloc(length, i % 251));
}

/** Every record of `blocks`, read back through RecordBlock, with its offset. */
function readBack(blocks: readonly EncodedBlock[]): [bigint, Buffer][] {
  const out: [bigint, Buffer][] = [];
  for (const { lastOffset, value } of blocks) {
    const block = new RecordBlock(lastOffset, value);
    for (;;) {
      const offset = block.nextOffset;
      const record = block.next();
      if (record === undefined) break;
      out.push([offset, Buffer.from(record)]);
    }
    expect(block.remaining).toBe(0);
  }
  return out;
}

describe('record blocks', () => {
  it('round-trips any records at contiguous offsets, blocks within the target unless one record exceeds it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 300 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.bigInt({ min: 1n, max: 1n << 60n }),
        (lengths, target, first) => {
          const input = records(lengths);
          const blocks = encodeBlocks(first, input, target);
          expect(readBack(blocks)).toEqual(input.map((r, i) => [first + BigInt(i), r]));
          let previousLast = first - 1n;
          for (const { lastOffset, value } of blocks) {
            const block = new RecordBlock(lastOffset, value);
            expect(block.firstOffset).toBe(previousLast + 1n);
            previousLast = lastOffset;
            const dataBytes = value.length - 5 - 4 * block.count;
            if (block.count > 1) expect(dataBytes).toBeLessThanOrEqual(target);
          }
          expect(previousLast).toBe(first + BigInt(input.length - 1));
        },
      ),
    );
  });

  it('reuses its buffer from block to block, gives an oversized first record a buffer of its own, and writes the header against the records', () => {
    const builder = new BlockBuilder(100);
    const values: Buffer[] = [];
    const emitted: EncodedBlock[] = [];
    const block = (last: bigint, input: Buffer[]): void => {
      for (const record of input) {
        expect(builder.fits(record.length)).toBe(true);
        const at = builder.reserve(record.length);
        builder.recordWritten(at + record.copy(builder.buffer, at));
      }
      const value = builder.seal();
      values.push(value);
      emitted.push({ lastOffset: last, value: Buffer.from(value) });
      builder.reset();
    };
    const first = records([30, 30, 30]);
    const second = records([5000]);
    const third = records([10, 20]);
    block(3n, first);
    block(4n, second);
    block(6n, third);
    expect(readBack(emitted)).toEqual([...first, ...second, ...third].map((r, i) => [BigInt(i + 1), r]));
    expect(values[0]!.buffer).toBe(values[2]!.buffer);
    expect(values[1]!.buffer).not.toBe(values[0]!.buffer);
    // The value is exactly header + records: no gap, nothing after.
    expect(emitted[2]!.value.length).toBe(5 + 4 * 2 + 30);
  });

  it('cuts a block at the record limit, refuses a reserve that does not fit, and records the bytes written', () => {
    const builder = new BlockBuilder(1000, 2);
    for (let i = 0; i < 2; i++) builder.recordWritten(builder.reserve(1) + 1);
    expect(builder.fits(1)).toBe(false);
    expect(() => builder.reserve(1)).toThrow(RangeError);
    builder.reset();
    // A record may take less than the room reserved for it, never more.
    const at = builder.reserve(4);
    expect(() => builder.recordWritten(at + 5)).toThrow(/5 bytes, 4 were reserved/);
    expect(() => builder.recordWritten(at - 1)).toThrow(/-1 bytes, 4 were reserved/);
    builder.recordWritten(at + 3);
    const next = builder.reserve(2);
    expect(next).toBe(at + 3);
    builder.recordWritten(next + 2);
    const shorter = builder.seal();
    expect(shorter.length).toBe(5 + 4 * 2 + 5);
    expect(shorter.readUInt32BE(5)).toBe(3);
    builder.reset();
    expect(() => new BlockBuilder().seal()).toThrow(/empty block/);
    const blocks = encodeBlocks(1n, records([1, 1, 1, 1, 1]), 1000, 2);
    expect(blocks.map((b) => new RecordBlock(b.lastOffset, b.value).count)).toEqual([2, 2, 1]);
  });

  it('packs a typical batch into blocks of the target size', () => {
    const perBlock = Math.floor(BLOCK_TARGET_BYTES / 1040);
    const blocks = encodeBlocks(1n, records(Array.from({ length: 2 * perBlock + 9 }, () => 1040)));
    expect(blocks.map((b) => new RecordBlock(b.lastOffset, b.value).count)).toEqual([perBlock, perBlock, 9]);
  });

  it('skips to an offset inside the block, and past its end', () => {
    const [only] = encodeBlocks(10n, records([3, 4, 5, 6]));
    const block = new RecordBlock(only!.lastOffset, only!.value);
    block.skipTo(12n);
    expect(block.nextOffset).toBe(12n);
    expect(block.next()?.length).toBe(5);
    block.skipTo(11n); // behind: no-op
    expect(block.nextOffset).toBe(13n);
    block.skipTo(99n);
    expect(block.remaining).toBe(0);
    expect(block.next()).toBeUndefined();
  });

  it.each([
    ['an empty value', Buffer.alloc(0)],
    ['an unknown version', Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['zero records', Buffer.from([1, 0, 0, 0, 0])],
    ['more lengths than bytes', Buffer.from([1, 0, 0, 1, 0, 0])],
    ['lengths past the end', Buffer.from([1, 0, 0, 0, 1, 0, 0, 0, 9, 7])],
    ['bytes after the last record', Buffer.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 7, 8])],
  ])('refuses %s with INVAILD_ARGUMENT', (_, value) => {
    let error: unknown;
    try {
      new RecordBlock(5n, value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StreamingError);
    expect((error as StreamingError).code).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect((error as StreamingError).message).toContain('record block');
  });
});
