/**
 * One group-commit batch of a pchannel's LevelDB, built as appends arrive: each record is encoded
 * in RocksMQ form straight into the block being built, and each full block is handed to the
 * LevelDB chained batch at once (which copies it), so by the time the batch ahead is durable this
 * one only needs its last block and its meta values before it is written.
 */
import type { ImmutableMessage } from '../../../shared/message/index.js';
import { BLOCK_KEY_LENGTH, META_KEYS, writeBlockKey } from './level-keys.js';
import type { BlockBuilder } from './record-block.js';
import { encodeRmqLayoutInto } from './rmq-layout.js';
import type { EngineBatch, MetaKey } from './storage-engine.js';

/** What a LevelDB chained batch offers (`db.batch()` of abstract-level). */
export interface ChainedBatchLike {
  put(key: Buffer, value: Buffer): unknown;
  write(options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Lends block builders to batches (one per batch being built, returned when it is written). */
export interface BlockBuilderPool {
  take(): BlockBuilder;
  give(builder: BlockBuilder): void;
}

/**
 * {@link EngineBatch} over a chained batch. A prepared record is the most bytes its encoded form
 * may take (`rmqLayoutBound`); the chained batch is opened with the first record or meta value.
 */
export class LevelBatch implements EngineBatch<number> {
  readonly firstOffset: bigint;
  readonly #openChained: () => ChainedBatchLike;
  readonly #blocks: BlockBuilderPool;
  readonly #key = Buffer.allocUnsafe(BLOCK_KEY_LENGTH);
  #chained: ChainedBatchLike | undefined;
  #builder: BlockBuilder | undefined;
  /** Offset the next record gets. */
  #nextOffset: bigint;
  #done = false;

  constructor(firstOffset: bigint, openChained: () => ChainedBatchLike, blocks: BlockBuilderPool) {
    this.firstOffset = firstOffset;
    this.#nextOffset = firstOffset;
    this.#openChained = openChained;
    this.#blocks = blocks;
  }

  add(bound: number, message: ImmutableMessage): void {
    if (this.#done) throw new Error('batch already written or discarded');
    this.#builder ??= this.#blocks.take();
    const builder = this.#builder;
    if (!builder.fits(bound)) this.#putBlock(builder);
    const at = builder.reserve(bound);
    builder.recordWritten(encodeRmqLayoutInto(builder.buffer, at, message.payload, message.properties));
    this.#nextOffset++;
  }

  write(meta: readonly (readonly [MetaKey, Buffer])[], sync: boolean): Promise<void> {
    try {
      if (this.#done) throw new Error('batch already written or discarded');
      this.#done = true;
      const builder = this.#builder;
      if (builder !== undefined) {
        if (builder.count > 0) this.#putBlock(builder);
        this.#releaseBuilder();
      }
      const chained = this.#chained ?? this.#openChained();
      for (const [name, value] of meta) chained.put(META_KEYS[name], value);
      return chained.write({ sync });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  discard(): void {
    if (this.#done) return;
    this.#done = true;
    this.#releaseBuilder();
    void this.#chained?.close().catch(() => undefined);
  }

  /** Hands the full block to the chained batch (which copies it) and starts the next one. */
  #putBlock(builder: BlockBuilder): void {
    this.#chained ??= this.#openChained();
    writeBlockKey(this.#key, this.#nextOffset - 1n);
    this.#chained.put(this.#key, builder.seal());
    builder.reset();
  }

  #releaseBuilder(): void {
    const builder = this.#builder;
    if (builder === undefined) return;
    this.#builder = undefined;
    builder.reset();
    this.#blocks.give(builder);
  }
}
