/**
 * The key layout of a pchannel's LevelDB, one prefix byte per kind so meta keys never mix with
 * records:
 * - `'b'` + 8-byte big-endian offset of its last record → a block of consecutive records
 *   (`record-block.ts`), each in Milvus RocksMQ form (`rmq-layout.ts`);
 * - `'m'` + name → a meta value (`term`, `floor`, `checkpoint`);
 * - `'r'` + offset was the first release's one-value-per-record layout, refused on open.
 */
import type { MetaKey } from './storage-engine.js';

export const BLOCK_PREFIX = 0x62; // 'b'
/** Records of the first release, one value per record: refused with a clear error, not misread. */
export const LEGACY_RECORD_PREFIX = 0x72; // 'r'
const META_PREFIX = 0x6d; // 'm'
export const BLOCK_KEY_LENGTH = 9;
/** Just past every block key. */
export const BLOCKS_END = Buffer.from([BLOCK_PREFIX + 1]);

function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([META_PREFIX]), Buffer.from(name, 'ascii')]);
}

export const META_KEYS: Readonly<Record<MetaKey, Buffer>> = {
  term: metaKey('term'),
  floor: metaKey('floor'),
  checkpoint: metaKey('checkpoint'),
};

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
