/**
 * The per-pchannel state one process shares between every backend instance of that pchannel:
 * the storage handle, the fence term, the offsets (`floor` ≤ records < `end`), the group-commit
 * writer, the tail cache and the scanners waiting for new data.
 *
 * Instances come and go (one per open); the store lives while at least one of them holds a
 * reference, and closes its storage when the last one releases it. That is how a higher term can
 * be opened while an older instance is still open: both share this store, and the fence term
 * here is what the writer checks.
 */
import type { StreamingError } from '../../../shared/errors/index.js';
import type { ImmutableMessage, MutableMessage, PChannelInfo } from '../../../shared/message/index.js';
import { Deferred, Mutex } from '../../../shared/util/index.js';
import { fencedError, staleTermError, storageError } from './backend-errors.js';
import type { ScanSource } from './backend-scanner.js';
import { type CommitOwner, GroupCommitWriter, type GroupCommitHost } from './group-commit.js';
import { type MetaKey, type StorageEngine, i64, u64 } from './storage-engine.js';
import { TailCache } from './tail-cache.js';

/** Tuning of a channel store (defaults live in the openers). */
export interface ChannelStoreOptions {
  readonly sync: boolean;
  readonly maxBatchMessages: number;
  readonly maxBatchBytes: number;
  readonly earlyWriteBytes: number;
  readonly tailCacheMessages: number;
  readonly tailCacheBytes: number;
}

/** A backend instance as the store sees it. */
export interface StoreMember extends CommitOwner {
  readonly channel: PChannelInfo;
  /** A read-write open at `newTerm` superseded this member's term. */
  fence(newTerm: bigint): void;
}

/** Shared state of one pchannel in this process; see the file comment. */
export class ChannelStore<R> implements ScanSource, GroupCommitHost<R> {
  readonly name: string;
  readonly engine: StorageEngine<R>;
  readonly #writer: GroupCommitWriter<R>;
  readonly #tail: TailCache;
  readonly #members = new Set<StoreMember>();
  readonly #truncation = new Mutex();
  readonly #closed = new Deferred<void>();
  #waiters = new Set<() => void>();
  #term: bigint | undefined;
  #floor: bigint;
  #end: bigint;
  #refs = 0;
  #closing: Promise<void> | undefined;

  private constructor(name: string, engine: StorageEngine<R>, state: { term: bigint | undefined; floor: bigint; end: bigint }, options: ChannelStoreOptions) {
    this.name = name;
    this.engine = engine;
    this.#term = state.term;
    this.#floor = state.floor;
    this.#end = state.end;
    this.#tail = new TailCache(options.tailCacheMessages, options.tailCacheBytes);
    this.#writer = new GroupCommitWriter<R>(this, state.end, options);
  }

  /** Loads the persisted state of `engine`; closes the engine if that fails. */
  static async open<R>(name: string, engine: StorageEngine<R>, options: ChannelStoreOptions): Promise<ChannelStore<R>> {
    let state;
    try {
      state = await engine.load();
    } catch (error) {
      await engine.close().catch(() => undefined);
      throw storageError(name, 'load', error);
    }
    return new ChannelStore(name, engine, state, options);
  }

  /** The highest term that opened this pchannel read-write. */
  get term(): bigint | undefined {
    return this.#term;
  }
  get floor(): bigint {
    return this.#floor;
  }
  get end(): bigint {
    return this.#end;
  }

  // ---- references ----

  /** Takes a reference; false if the store is already closing (open a new one). */
  retain(): boolean {
    if (this.#closing !== undefined) return false;
    this.#refs++;
    return true;
  }

  /** Drops a reference; the last one closes the storage. Resolves when that is done. */
  release(): Promise<void> {
    this.#refs--;
    return this.#refs > 0 ? Promise.resolve() : this.#close();
  }

  /** Closes the store if nobody took a reference (an open that gave up). */
  closeIfUnused(): Promise<void> {
    return this.#refs > 0 ? Promise.resolve() : this.#close();
  }

  /** Resolves once the storage is closed; never rejects. */
  closed(): Promise<void> {
    return this.#closed.promise;
  }

  join(member: StoreMember): void {
    this.#members.add(member);
  }
  leave(member: StoreMember): void {
    this.#members.delete(member);
  }

  // ---- writes ----

  /**
   * Raises the fence term to `term` for a read-write open: refused below the current term; fences
   * lower-term members at once (in memory, so the writer refuses their queued requests from the
   * next batch on), then persists the term durably.
   */
  async fence(term: bigint): Promise<void> {
    if (this.#term !== undefined && term < this.#term) throw staleTermError(this.name, term, this.#term);
    this.#term = term;
    for (const member of this.#members) {
      if (member.channel.accessMode === 'rw' && member.channel.term < term) member.fence(term);
    }
    // The value is read when the batch is built: concurrent fences can never persist a lower term.
    await this.#writer.writeMeta(undefined, 'term', () => i64(this.#term ?? term));
  }

  append(owner: StoreMember, record: R, message: MutableMessage, size: number): Promise<ImmutableMessage> {
    return this.#writer.append(owner, record, message, size);
  }

  writeMeta(owner: StoreMember, key: MetaKey, value: Buffer): Promise<void> {
    return this.#writer.writeMeta(owner, key, () => value);
  }

  getMeta(key: MetaKey): Promise<Buffer | undefined> {
    return this.engine.getMeta(key).catch((error: unknown) => {
      throw storageError(this.name, `read ${key}`, error);
    });
  }

  /**
   * Removes records ≤ `upTo` (clamped to the last durable one). The new floor is persisted first
   * (through the writer, so it is fenced like an append), then applied, then records are deleted:
   * a crash in between leaves only unreachable records, removed on the next open.
   */
  async truncate(owner: StoreMember, upTo: bigint): Promise<void> {
    await this.#truncation.runExclusive(async () => {
      const last = this.#end - 1n;
      const target = upTo < last ? upTo : last;
      if (target < this.#floor) return;
      const floor = target + 1n;
      await this.#writer.writeMeta(owner, 'floor', () => u64(floor));
      this.#floor = floor;
      this.#tail.dropBelow(floor);
      try {
        await this.engine.deleteBelow(floor);
      } catch (error) {
        throw storageError(this.name, 'delete truncated records', error);
      }
    });
  }

  // ---- GroupCommitHost ----

  currentTerm(): bigint | undefined {
    return this.#term;
  }

  fencedError(owner: CommitOwner, term: bigint): StreamingError {
    return fencedError(this.name, owner.term, term);
  }

  committed(firstOffset: bigint, messages: readonly ImmutableMessage[], sizes: readonly number[]): void {
    this.#end = firstOffset + BigInt(messages.length);
    this.#tail.append(firstOffset, messages, sizes);
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  // ---- ScanSource ----

  read(from: bigint, limit: number): ImmutableMessage[] | Promise<ImmutableMessage[]> {
    const cached = this.#tail.read(from, limit);
    if (cached !== undefined) return cached;
    return this.engine.read(from, this.#end, limit).catch((error: unknown) => {
      throw storageError(this.name, 'read', error);
    });
  }

  addWaiter(wake: () => void): void {
    this.#waiters.add(wake);
  }

  removeWaiter(wake: () => void): void {
    this.#waiters.delete(wake);
  }

  #close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        // Members closed their scanners and waited for their requests; a fence write of an
        // open that gave up may still be queued, and a truncation may still be deleting.
        await this.#writer.idle();
        await this.#truncation.runExclusive(() => undefined);
        this.#tail.clear();
        await this.engine.close();
      } catch (error) {
        throw storageError(this.name, 'close', error);
      } finally {
        this.#closed.resolve();
      }
    })();
    return this.#closing;
  }
}
