/**
 * The key layout of a pchannel's LevelDB, one prefix byte per kind so meta keys never mix with
 * records:
 * - `'M'` + name → a meta value (`term`, `floor`, `checkpoint`);
 * - `'b'` + 8-byte big-endian offset of its last record → a block of consecutive records
 *   (`record-block.ts`), each in Milvus RocksMQ form (`rmq-layout.ts`);
 * - `'m'` + name held the meta values up to the release that moved them to `'M'`: moved on open;
 * - `'r'` + offset was the first release's one-value-per-record layout, refused on open.
 *
 * Meta keys sort BEFORE the blocks on purpose. Blocks are only ever appended at the high end, so
 * an SST file of new blocks overlaps no older file and LevelDB moves it down the levels without
 * rewriting it. A key that is rewritten (meta) and sorts after the blocks would make every file
 * that holds it span up to it, so every newer file of blocks would overlap that one and be merged
 * (rewritten) on its way down: about 0.7 extra bytes written per byte appended, and twice the
 * compaction CPU (measured: 2963 → 2248 bytes written per 1 KiB append). Sorting first, a file
 * with a meta value overlaps only the oldest blocks, and only files that carry a meta value
 * (rare: term on open, checkpoint every few seconds, floor on retention) are merged.
 */
import type { MetaKey } from './storage-engine.js';

export const BLOCK_PREFIX = 0x62; // 'b'
/** Records of the first release, one value per record: refused with a clear error, not misread. */
export const LEGACY_RECORD_PREFIX = 0x72; // 'r'
const META_PREFIX = 0x4d; // 'M'
/** Where the meta values lived before they moved in front of the blocks. */
const LEGACY_META_PREFIX = 0x6d; // 'm'
export const BLOCK_KEY_LENGTH = 9;
/** Just past every block key. */
export const BLOCKS_END = Buffer.from([BLOCK_PREFIX + 1]);

function metaKey(prefix: number, name: MetaKey): Buffer {
  return Buffer.concat([Buffer.from([prefix]), Buffer.from(name, 'ascii')]);
}

function metaKeys(prefix: number): Record<MetaKey, Buffer> {
  return { term: metaKey(prefix, 'term'), floor: metaKey(prefix, 'floor'), checkpoint: metaKey(prefix, 'checkpoint') };
}

export const META_KEYS: Readonly<Record<MetaKey, Buffer>> = metaKeys(META_PREFIX);
/** The meta keys of the earlier layout (`'m'` + name), moved to {@link META_KEYS} on open. */
export const LEGACY_META_KEYS: Readonly<Record<MetaKey, Buffer>> = metaKeys(LEGACY_META_PREFIX);

/** The key of the block whose last record is at `offset`. */
export function blockKey(offset: bigint): Buffer {
  const key = Buffer.allocUnsafe(BLOCK_KEY_LENGTH);
  writeBlockKey(key, offset);
  return key;
}

/** Writes the key of the block whose last record is at `offset` into `key` (reused by writers). */
export function writeBlockKey(key: Buffer, offset: bigint): void {
  key[0] = BLOCK_PREFIX;
  key.writeBigUInt64BE(offset, 1);
}
