/**
 * What a channel store needs from the storage under one pchannel: LevelDB in production, a map in
 * memory for tests. Everything above it (offsets, fencing, group commit, tail cache, scanners) is
 * shared, so both backends behave the same by construction.
 *
 * Storage model: records at contiguous offsets `[floor, end)`, plus a few meta values. Offsets
 * start at {@link FIRST_OFFSET}; `floor` only grows (truncation) and is persisted before the
 * records below it are deleted, so it doubles as the high-water mark of an emptied log.
 */
import type { ImmutableMessage, MutableMessage } from '../../../shared/message/index.js';

/** The first offset a pchannel hands out. 0 stays free so `startAfter(MessageId.MIN)` means "everything". */
export const FIRST_OFFSET = 1n;

/** Names of the meta values a pchannel keeps beside its records. */
export type MetaKey = 'term' | 'floor' | 'checkpoint';

/** What storage holds when a store opens it. */
export interface StoredState {
  /** Highest term that opened the pchannel read-write; undefined if none ever did. */
  readonly term: bigint | undefined;
  /** Records below this offset are gone (or never existed); ≥ {@link FIRST_OFFSET}. */
  readonly floor: bigint;
  /** One past the last stored record; ≥ floor. */
  readonly end: bigint;
}

/**
 * One atomic write, built while the write before it is still in flight: records are added as
 * appends arrive, at `firstOffset, firstOffset + 1, …`; meta values come with {@link write}.
 * Building ahead is what lets encoding overlap the previous batch's fsync.
 */
export interface EngineBatch<R> {
  /** Offset of the first record added. */
  readonly firstOffset: bigint;
  /**
   * Adds the next record (a `prepare`d one, with its message as stored). Only a record `prepare`
   * did not accept can make it throw, and the batch must then be discarded.
   */
  add(record: R, message: ImmutableMessage): void;
  /** Writes the records added and `meta` atomically (all or nothing); fsync first when `sync`. Called at most once. */
  write(meta: readonly (readonly [MetaKey, Buffer])[], sync: boolean): Promise<void>;
  /** Drops the batch unwritten (its records go to a new batch, at other offsets). */
  discard(): void;
}

/** The storage of one pchannel. `R` is the prepared (encoded) form of a record. */
export interface StorageEngine<R> {
  /** Where the data lives, for messages (a directory, or `memory`). */
  readonly location: string;
  /** Reads the persisted state; called once, right after opening. */
  load(): Promise<StoredState>;
  /**
   * Checks, synchronously and before the message is queued, that it can be stored, and returns
   * what the engine keeps of it until it is added to a batch (LevelDB: the encoded size; the
   * bytes are written into the batch's block then). Throws StreamingError INVAILD_ARGUMENT for
   * unstorable input, so a bad message never fails the batch it would have joined.
   */
  prepare(message: MutableMessage): R;
  /** Bytes a message counts for in batch and cache limits (an estimate is fine). */
  sizeOf(record: R, message: MutableMessage): number;
  /**
   * Starts a batch whose first record goes at `firstOffset`. Batches are written one at a time, in
   * the order they were started; a batch started while another is in flight assumes that one lands.
   */
  newBatch(firstOffset: bigint): EngineBatch<R>;
  /** Up to `limit` records with offsets in `[from, end)`, ascending. */
  read(from: bigint, end: bigint, limit: number): Promise<ImmutableMessage[]>;
  /** Deletes records below `floor`, in chunks; the floor itself was persisted before. */
  deleteBelow(floor: bigint): Promise<void>;
  getMeta(key: MetaKey): Promise<Buffer | undefined>;
  /** Releases the storage. Called once, after every write and read finished. */
  close(): Promise<void>;
}

/** 8-byte big-endian encoding of an unsigned offset or term. */
export function u64(value: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(value, 0);
  return out;
}

/** 8-byte big-endian encoding of a signed term (terms start at -1 in Milvus). */
export function i64(value: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(value, 0);
  return out;
}
