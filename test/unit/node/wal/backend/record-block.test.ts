import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_TARGET_BYTES, BlockEncoder, RecordBlock } from '../../../../../node/wal/backend/record-block.js';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';

/** One encoded block: the offset of its last record (the key) and a copy of its value. */
interface EncodedBlock {
  readonly lastOffset: bigint;
  readonly value: Buffer;
}

/** Packs ready-made `records` into blocks, copying each value out of the encoder's scratch buffer. */
function encodeBlocks(firstOffset: bigint, records: readonly Buffer[], targetBytes: number = BLOCK_TARGET_BYTES): EncodedBlock[] {
  const blocks: EncodedBlock[] = [];
  new BlockEncoder(targetBytes).encode(
    firstOffset,
    records.map((r) => r.length),
    (i, out, at) => at + (records[i] as Buffer).copy(out, at),
    (lastOffset, value) => blocks.push({ lastOffset, value: Buffer.from(value) }),
  );
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

  it('reuses one scratch buffer across batches without mixing them up, and gives an oversized block its own', () => {
    const encoder = new BlockEncoder(100);
    const emitted: EncodedBlock[] = [];
    const values: Buffer[] = [];
    const batch = (first: bigint, input: Buffer[]): void =>
      encoder.encode(
        first,
        input.map((r) => r.length),
        (i, out, at) => at + (input[i] as Buffer).copy(out, at),
        (lastOffset, value) => {
          values.push(value);
          emitted.push({ lastOffset, value: Buffer.from(value) });
        },
      );
    const first = records([30, 30, 30, 30]);
    const second = records([5000, 10]);
    batch(1n, first);
    batch(5n, second);
    expect(readBack(emitted)).toEqual([...first, ...second].map((r, i) => [BigInt(i + 1), r]));
    // The two small blocks shared the scratch buffer; the 5000-byte one (over the scratch size) did not.
    expect(values[0]!.buffer).toBe(values[1]!.buffer);
    expect(values[2]!.buffer).not.toBe(values[0]!.buffer);
  });

  it('packs a typical batch into one block per 256 KiB', () => {
    const blocks = encodeBlocks(1n, records(Array.from({ length: 600 }, () => 1040)));
    expect(blocks.map((b) => new RecordBlock(b.lastOffset, b.value).count)).toEqual([252, 252, 96]);
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
