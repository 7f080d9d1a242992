/**
 * In-memory storage of one pchannel, for fast tests. The data outlives the storage object (it
 * belongs to the opener), so closing and reopening a pchannel keeps its records, term, floor and
 * checkpoint exactly like LevelDB does.
 */
import { StreamingError } from '../../../shared/errors/index.js';
import type { ImmutableMessage, MutableMessage } from '../../../shared/message/index.js';
import { type EngineBatch, FIRST_OFFSET, type MetaKey, type StorageEngine, type StoredState } from './storage-engine.js';

/** The persistent part of an in-memory pchannel. */
export class MemoryChannelData {
  /** Records at offsets `base, base + 1, …`. */
  records: ImmutableMessage[] = [];
  base = FIRST_OFFSET;
  readonly meta = new Map<MetaKey, Buffer>();
}

/** {@link StorageEngine} over a {@link MemoryChannelData}; records are kept as messages. */
export class MemoryStorage implements StorageEngine<MutableMessage> {
  readonly location = 'memory';
  readonly #data: MemoryChannelData;

  constructor(data: MemoryChannelData) {
    this.#data = data;
  }

  load(): Promise<StoredState> {
    const data = this.#data;
    const term = data.meta.get('term');
    const floor = data.meta.get('floor')?.readBigUInt64BE(0) ?? FIRST_OFFSET;
    const afterLast = data.base + BigInt(data.records.length);
    return Promise.resolve({
      term: term === undefined ? undefined : term.readBigInt64BE(0),
      floor,
      end: afterLast > floor ? afterLast : floor,
    });
  }

  /** Nothing to encode: the message itself is stored (messages are immutable). */
  prepare(message: MutableMessage): MutableMessage {
    return message;
  }

  sizeOf(_record: MutableMessage, message: MutableMessage): number {
    return message.estimateSize();
  }

  newBatch(firstOffset: bigint): EngineBatch<MutableMessage> {
    return new MemoryBatch(this.#data, firstOffset);
  }

  read(from: bigint, end: bigint, limit: number): Promise<ImmutableMessage[]> {
    const data = this.#data;
    const start = from > data.base ? Number(from - data.base) : 0;
    const stop = Math.min(data.records.length, Number(end - data.base), start + limit);
    return Promise.resolve(stop > start ? data.records.slice(start, stop) : []);
  }

  deleteBelow(floor: bigint): Promise<void> {
    const data = this.#data;
    const drop = Math.min(data.records.length, Number(floor - data.base));
    if (drop > 0) {
      data.records = data.records.slice(drop);
      data.base += BigInt(drop);
    }
    if (data.records.length === 0 && data.base < floor) data.base = floor;
    return Promise.resolve();
  }

  getMeta(key: MetaKey): Promise<Buffer | undefined> {
    const value = this.#data.meta.get(key);
    return Promise.resolve(value === undefined ? undefined : Buffer.from(value));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A batch of {@link MemoryStorage}: the stored messages, applied to the data when written. */
class MemoryBatch implements EngineBatch<MutableMessage> {
  readonly firstOffset: bigint;
  readonly #data: MemoryChannelData;
  readonly #messages: ImmutableMessage[] = [];
  #done = false;

  constructor(data: MemoryChannelData, firstOffset: bigint) {
    this.#data = data;
    this.firstOffset = firstOffset;
  }

  add(_record: MutableMessage, message: ImmutableMessage): void {
    if (this.#done) throw new Error('batch already written or discarded');
    this.#messages.push(message);
  }

  write(meta: readonly (readonly [MetaKey, Buffer])[], _sync: boolean): Promise<void> {
    if (this.#done) return Promise.reject(new Error('batch already written or discarded'));
    this.#done = true;
    const data = this.#data;
    if (this.#messages.length > 0) {
      const expected = data.base + BigInt(data.records.length);
      if (data.records.length === 0) data.base = this.firstOffset;
      else if (this.firstOffset !== expected) {
        return Promise.reject(StreamingError.inner(`memory wal: batch at ${this.firstOffset}, expected ${expected}`));
      }
      for (const message of this.#messages) data.records.push(message);
    }
    for (const [key, value] of meta) data.meta.set(key, Buffer.from(value));
    return Promise.resolve();
  }

  discard(): void {
    this.#done = true;
  }
}
