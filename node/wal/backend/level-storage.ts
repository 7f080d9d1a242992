/**
 * LevelDB storage of one pchannel (one database per pchannel directory), in the key layout of
 * `level-keys.ts`: records packed into blocks (one group-commit batch becomes one block, or a few
 * when large, because LevelDB's cost is per entry) plus the meta values `term` (int64 BE, highest
 * read-write term), `floor` (uint64 BE, first retained offset; persisted before truncated blocks
 * are deleted) and `checkpoint` (opaque bytes).
 *
 * Truncation deletes whole blocks below the floor; records below it in the block that straddles
 * the floor stay on disk but are never read (readers start at or above the floor).
 *
 * Appends are written with the chained batch form (`db.batch()` → `put` → `write`), several times
 * faster than the array form here (peers-and-limits.md §6), built as they arrive (`level-batch.ts`).
 */
import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import { ImmutableMessage, MessageId, type MutableMessage } from '../../../shared/message/index.js';
import { lockHeldError, storageError } from './backend-errors.js';
import { LevelBatch } from './level-batch.js';
import { BLOCKS_END, blockKey, LEGACY_META_KEYS, LEGACY_RECORD_PREFIX, META_KEYS } from './level-keys.js';
import { BlockBuilder, RecordBlock } from './record-block.js';
import { decodeRmqLayout, rmqLayoutBound } from './rmq-layout.js';
import { type EngineBatch, FIRST_OFFSET, type MetaKey, type StorageEngine, type StoredState } from './storage-engine.js';
import { StreamingError } from '../../../shared/errors/index.js';

type WalDb = Level<Buffer, Buffer>;

/** Blocks deleted per batch when truncating: keeps each write small. */
const DELETE_CHUNK = 256;
/** Blocks one storage read fetches at most (about 1 MiB at the block target size). */
const BLOCKS_PER_READ = 16;
/** Bytes one storage read fetches at most (LevelDB's own default is 16 KiB, far too small here). */
const READ_CHUNK_BYTES = 2 * 1024 * 1024;
/** Block builders kept for reuse (see LevelStorage). */
const MAX_SPARE_BUILDERS = 2;

/** How many read iterators are kept open between reads (about one per catching-up scanner). */
const MAX_CURSORS = 8;

/**
 * An open read iterator: a snapshot of the blocks below `end`, opened in truncation `epoch`, with
 * the block being read and the blocks fetched after it.
 */
interface Cursor {
  readonly iterator: ReturnType<WalDb['iterator']>;
  readonly end: bigint;
  readonly epoch: number;
  block: RecordBlock | undefined;
  fetched: [Buffer, Buffer][];
  fetchedAt: number;
}

function closeQuietly(iterator: Cursor['iterator']): Promise<void> {
  return iterator.close().catch(() => undefined);
}

/** Options of {@link LevelStorage.open}. */
export interface LevelStorageOptions {
  /** LevelDB memtable size in bytes. */
  readonly writeBufferSize: number;
  /** Snappy-compress stored blocks. */
  readonly compression: boolean;
}

/**
 * LevelDB-backed {@link StorageEngine}; see the file comment. A prepared record is the byte size
 * of its RocksMQ form: the bytes themselves are written straight into the batch's block when the
 * batch is written, so an append allocates no buffer of its own.
 */
export class LevelStorage implements StorageEngine<number> {
  readonly location: string;
  readonly #channel: string;
  readonly #db: WalDb;
  /** Block builders not lent to a batch (each keeps its block buffer between batches). */
  readonly #spareBuilders: BlockBuilder[] = [];
  readonly #builderPool = {
    take: (): BlockBuilder => this.#spareBuilders.pop() ?? new BlockBuilder(),
    give: (builder: BlockBuilder): void => {
      // One batch builds while one is written: more spares than that are garbage.
      if (this.#spareBuilders.length < MAX_SPARE_BUILDERS) this.#spareBuilders.push(builder);
    },
  };
  /** Iterators kept open between reads, by the offset the next read of theirs starts at. */
  readonly #cursors = new Map<bigint, Cursor>();
  /** Bumped by every truncation: iterators opened before it are not kept. */
  #epoch = 0;
  #closing = false;

  private constructor(channel: string, location: string, db: WalDb) {
    this.#channel = channel;
    this.location = location;
    this.#db = db;
  }

  /**
   * Opens (creating if needed) the database at `location`.
   *
   * @throws StreamingError RESOURCE_ACQUIRED when another process holds its lock, INNER otherwise.
   */
  static async open(channel: string, location: string, options: LevelStorageOptions): Promise<LevelStorage> {
    const db: WalDb = new Level<Buffer, Buffer>(location, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      createIfMissing: true,
      writeBufferSize: options.writeBufferSize,
      compression: options.compression,
    });
    try {
      await mkdir(location, { recursive: true });
      await db.open();
    } catch (error) {
      throw isLockError(error) ? lockHeldError(channel, location, error) : storageError(channel, `open ${location}`, error);
    }
    return new LevelStorage(channel, location, db);
  }

  async load(): Promise<StoredState> {
    await this.#refuseLegacyLayout();
    await this.#moveLegacyMeta();
    const termBytes = await this.#db.get(META_KEYS.term);
    const floorBytes = await this.#db.get(META_KEYS.floor);
    const floor = floorBytes === undefined ? FIRST_OFFSET : floorBytes.readBigUInt64BE(0);
    const last = await this.#db.keys({ gte: blockKey(0n), lt: BLOCKS_END, reverse: true, limit: 1 }).all();
    const lastKey = last[0];
    const afterLast = lastKey === undefined ? FIRST_OFFSET : lastKey.readBigUInt64BE(1) + 1n;
    // A truncation interrupted by a crash leaves blocks below the floor: finish it.
    await this.deleteBelow(floor);
    return {
      term: termBytes === undefined ? undefined : termBytes.readBigInt64BE(0),
      floor,
      end: afterLast > floor ? afterLast : floor,
    };
  }

  /** Data of the one-value-per-record layout would read as an empty log: say so instead. */
  async #refuseLegacyLayout(): Promise<void> {
    const legacy = await this.#db.keys({ gte: Buffer.from([LEGACY_RECORD_PREFIX]), lt: Buffer.from([LEGACY_RECORD_PREFIX + 1]), limit: 1 }).all();
    if (legacy.length > 0) {
      throw StreamingError.unrecoverable(`pchannel ${this.#channel}: ${this.location} holds records in an older on-disk layout (one value per record); this version stores record blocks and cannot read it`);
    }
  }

  /**
   * Moves meta values stored under the earlier `'m'` keys to the current ones, in one synced
   * batch, so the database is in one layout from here on (`level-keys.ts` says why they moved).
   * Both exist only if an older release opened the log after a newer one (a downgrade, which is
   * not supported: the older release cannot see the newer one's fence term). Then the term and the
   * floor keep the higher of the two values, since both only ever grow, and the checkpoint keeps
   * the older release's, the one written last.
   */
  async #moveLegacyMeta(): Promise<void> {
    const names = Object.keys(LEGACY_META_KEYS) as MetaKey[];
    const legacy = await this.#db.getMany(names.map((name) => LEGACY_META_KEYS[name]));
    if (legacy.every((v) => v === undefined)) return;
    const current = await this.#db.getMany(names.map((name) => META_KEYS[name]));
    const batch = this.#db.batch();
    names.forEach((name, i) => {
      const value = legacy[i];
      if (value === undefined) return;
      batch.put(META_KEYS[name], name === 'checkpoint' ? value : higherCounter(value, current[i]));
      batch.del(LEGACY_META_KEYS[name]);
    });
    await batch.write({ sync: true });
  }

  prepare(message: MutableMessage): number {
    // The room the record may take in its block; the encoder writes it in one pass there.
    return rmqLayoutBound(message.payload, message.properties);
  }

  sizeOf(_record: number, message: MutableMessage): number {
    // Payload and properties: what the tail cache holds of it, and within a few bytes per property
    // what the batch writes. Known already (input checks sized the message).
    return message.estimateSize();
  }

  newBatch(firstOffset: bigint): EngineBatch<number> {
    return new LevelBatch(firstOffset, () => this.#db.batch(), this.#builderPool);
  }

  async read(from: bigint, end: bigint, limit: number): Promise<ImmutableMessage[]> {
    // A scanner reads chunk after chunk from where the last one stopped: continue that chunk's
    // iterator (a snapshot bounded by the end it was opened with) instead of opening one per chunk.
    let cursor = this.#cursors.get(from);
    if (cursor !== undefined) this.#cursors.delete(from);
    if (cursor === undefined || from >= cursor.end) {
      if (cursor !== undefined) void closeQuietly(cursor.iterator);
      // Keys are last offsets: the first block at or after `from` holds `from`; blocks keyed below
      // `end` hold only records below it (`end` is always a batch boundary).
      const iterator = this.#db.iterator({ gte: blockKey(from), lt: blockKey(end), highWaterMarkBytes: READ_CHUNK_BYTES });
      cursor = { iterator, end, epoch: this.#epoch, block: undefined, fetched: [], fetchedAt: 0 };
    }
    let keep = false;
    try {
      const out = await this.#take(cursor, from, limit);
      const last = out[out.length - 1];
      // Not kept past a truncation (its snapshot still holds the deleted records) or the close.
      if (last !== undefined && cursor.epoch === this.#epoch && !this.#closing) {
        const next = last.messageId.offset + 1n;
        if (next < cursor.end) {
          this.#keepCursor(next, cursor);
          keep = true;
        }
      }
      return out;
    } finally {
      if (!keep) await cursor.iterator.close();
    }
  }

  /**
   * Up to `limit` messages from the cursor, starting at `from`. Fetches more blocks only when
   * nothing was taken yet, so a read costs at most one trip to LevelDB.
   */
  async #take(cursor: Cursor, from: bigint, limit: number): Promise<ImmutableMessage[]> {
    const out: ImmutableMessage[] = [];
    while (out.length < limit) {
      let block = cursor.block;
      if (block === undefined || block.remaining === 0) {
        if (cursor.fetchedAt >= cursor.fetched.length) {
          if (out.length > 0) break;
          cursor.fetched = (await cursor.iterator.nextv(BLOCKS_PER_READ)) as [Buffer, Buffer][];
          cursor.fetchedAt = 0;
          if (cursor.fetched.length === 0) break;
        }
        const [key, value] = cursor.fetched[cursor.fetchedAt] as [Buffer, Buffer];
        cursor.fetched[cursor.fetchedAt++] = EMPTY_ENTRY;
        block = this.#parseBlock(key, value);
        // Only the block a fresh iterator lands on can start below `from`.
        block.skipTo(from);
        cursor.block = block;
      }
      while (out.length < limit) {
        const offset = block.nextOffset;
        const record = block.next();
        if (record === undefined) break;
        out.push(this.#decode(offset, record));
      }
    }
    return out;
  }

  /** Keeps `cursor` for a read from `next`, closing the oldest kept one beyond the limit. */
  #keepCursor(next: bigint, cursor: Cursor): void {
    const previous = this.#cursors.get(next);
    if (previous !== undefined) void closeQuietly(previous.iterator);
    this.#cursors.set(next, cursor);
    if (this.#cursors.size > MAX_CURSORS) {
      const [oldestKey, oldest] = this.#cursors.entries().next().value as [bigint, Cursor];
      this.#cursors.delete(oldestKey);
      void closeQuietly(oldest.iterator);
    }
  }

  /** Closes every kept iterator: their snapshots must not outlive a truncation or the database. */
  async #dropCursors(): Promise<void> {
    const cursors = [...this.#cursors.values()];
    this.#cursors.clear();
    await Promise.all(cursors.map((c) => closeQuietly(c.iterator)));
  }

  async deleteBelow(floor: bigint): Promise<void> {
    // Kept iterators are snapshots that would still return the deleted blocks.
    this.#epoch++;
    await this.#dropCursors();
    for (;;) {
      // Blocks whose last record is below the floor; the block straddling it stays.
      const keys = await this.#db.keys({ gte: blockKey(0n), lt: blockKey(floor), limit: DELETE_CHUNK }).all();
      if (keys.length === 0) return;
      const chained = this.#db.batch();
      for (const key of keys) chained.del(key);
      // No sync: the floor is durable already, and deletions lost in a crash are redone on open.
      await chained.write({ sync: false });
    }
  }

  getMeta(key: MetaKey): Promise<Buffer | undefined> {
    return this.#db.get(META_KEYS[key]);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#dropCursors();
    await this.#db.close();
  }

  #parseBlock(key: Buffer, value: Buffer): RecordBlock {
    const lastOffset = key.readBigUInt64BE(1);
    try {
      return new RecordBlock(lastOffset, value);
    } catch (error) {
      throw StreamingError.unrecoverable(`pchannel ${this.#channel}: the block ending at record ${lastOffset} in ${this.location} is corrupt`, error);
    }
  }

  #decode(offset: bigint, record: Buffer): ImmutableMessage {
    try {
      const { payload, properties } = decodeRmqLayout(record);
      // The decoded properties are a fresh object nobody else holds: freezing it in place is what
      // `create` would do after copying it, minus the copy (a third of the scan cost per message).
      return ImmutableMessage.fromOwned(MessageId.of(offset), payload, Object.freeze(properties));
    } catch (error) {
      throw StreamingError.unrecoverable(`pchannel ${this.#channel}: record ${offset} in ${this.location} is corrupt`, error);
    }
  }
}

/** Replaces a consumed fetched entry so the cursor does not keep its block alive. */
const EMPTY_ENTRY: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];

/**
 * LevelDB reports a held lock only through its status text (`IO error: lock …: Resource
 * temporarily unavailable`, or `already held by process` within one process); there is no code.
 */
function isLockError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause: unknown = error.cause;
  const text = `${error.message} ${cause instanceof Error ? cause.message : ''}`;
  return /\block\b/i.test(text) && /(temporarily unavailable|already held|resource busy)/i.test(text);
}

/** The higher of two stored 8-byte big-endian counters (term or floor); `b` may be absent. */
function higherCounter(a: Buffer, b: Buffer | undefined): Buffer {
  return b !== undefined && b.length === 8 && a.length === 8 && b.readBigInt64BE(0) > a.readBigInt64BE(0) ? b : a;
}
