/**
 * {@link MetaKV} embedded on one LevelDB directory (standalone mode), with etcd's semantics:
 * one store-wide revision, per-key createRevision/modRevision/version/lease, atomic compare-and-
 * swap transactions, watches from any revision still in the bounded history, leases with TTL.
 *
 * Writes go through {@link LevelWriter} (one lock, one durable batch per revision, lease expiry
 * timer). Reads take no lock: they read one LevelDB snapshot (see `level-reads.ts`). Watches are
 * in-process, see {@link LevelWatch} for how slow watchers are handled. Calls after `close()`
 * fail with ON_SHUTDOWN.
 *
 * @example
 * ```ts
 * const kv = await LevelMetaKV.open('/data/meta');
 * const { revision } = await kv.put('by-dev/meta/x', 'v');
 * for await (const batch of kv.watch('by-dev/meta/', { fromRevision: revision })) { … }
 * await kv.close();
 * ```
 */
import { Level } from 'level';
import { StreamingError } from '../errors/index.js';
import { rangeRead, readHistory, type MetaDb } from './level-reads.js';
import { LevelWatch, type LevelWatchSource } from './level-watch.js';
import { LevelWriter, asMetaError } from './level-writer.js';
import { storeClosed } from './meta-errors.js';
import type { KeyValue, LeaseGrant, MetaKV, MetaWatch, RangeOptions, RangeResult, TxnRequest, TxnResult, WatchOptions } from './meta-kv.js';
import { validateKey, validateLeaseId, validateRangeOptions, validateRevision, validateTtl, validateTxn } from './validate-txn.js';

/** Options of {@link LevelMetaKV.open}. */
export interface LevelMetaKVOptions {
  /** Revisions of change history kept for watches and reads at older revisions (default 10 000). */
  readonly historyLimit?: number;
  /** Batches a live watch buffers for a slow consumer before it falls back to replaying history
   *  (default 1000). */
  readonly watchQueueLimit?: number;
  /** fsync every write (default true). */
  readonly sync?: boolean;
  /** Told about failures of background work (lease expiry), which is retried. */
  readonly onBackgroundError?: (error: StreamingError) => void;
}

/** Default revisions of history kept. */
export const DEFAULT_HISTORY_LIMIT = 10_000;
/** Default batches a live watch buffers. */
export const DEFAULT_WATCH_QUEUE_LIMIT = 1_000;

function positiveInt(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw StreamingError.invalidArgument(field, `must be an integer >= 1, got ${value}`);
  return value;
}

/** MetaKV embedded on LevelDB; open with {@link LevelMetaKV.open}. */
export class LevelMetaKV implements MetaKV {
  readonly #db: MetaDb;
  readonly #writer: LevelWriter;
  readonly #watchQueueLimit: number;
  readonly #watches = new Set<LevelWatch>();
  readonly #reads = new Set<Promise<unknown>>();
  /** What watches see of the store: live revision counters and history reads. */
  readonly #source: LevelWatchSource;
  #status: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;

  private constructor(db: MetaDb, options: LevelMetaKVOptions) {
    this.#db = db;
    this.#watchQueueLimit = positiveInt(options.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT, 'watchQueueLimit');
    const writerOptions = {
      historyLimit: positiveInt(options.historyLimit ?? DEFAULT_HISTORY_LIMIT, 'historyLimit'),
      sync: options.sync ?? true,
      onBackgroundError: options.onBackgroundError ?? (() => undefined),
    };
    const writer = new LevelWriter(db, writerOptions, (revision, events) => {
      for (const watch of this.#watches) watch.offer(revision, events);
    });
    this.#writer = writer;
    this.#source = {
      get currentRevision() {
        return writer.revision;
      },
      get compactRevision() {
        return writer.compactRevision;
      },
      readHistory: (from, to, limit) => this.#read('watch', () => readHistory(db, from, to, limit)),
    };
  }

  /** Opens (creating if needed) the store in `dir`; purges leases that expired while closed. */
  static async open(dir: string, options: LevelMetaKVOptions = {}): Promise<LevelMetaKV> {
    const db: MetaDb = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const store = new LevelMetaKV(db, options);
    try {
      await db.open();
    } catch (e) {
      throw StreamingError.inner(`cannot open meta store at ${dir}`, e);
    }
    try {
      await store.#writer.load();
    } catch (e) {
      await store.#writer.stop();
      await db.close().catch(() => undefined);
      throw asMetaError(e, `load of ${dir}`);
    }
    return store;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    validateKey(key);
    return this.#read('get', () => this.#writer.state.read(key));
  }

  async put(key: string, value: Buffer | string, options: { lease?: string } = {}): Promise<{ revision: number }> {
    const op = options.lease === undefined ? { type: 'put' as const, key, value } : { type: 'put' as const, key, value, lease: options.lease };
    const { revision } = await this.#txn({ compares: [], success: [op] }, 'put');
    return { revision };
  }

  async delete(key: string): Promise<number> {
    return (await this.#txn({ compares: [], success: [{ type: 'delete', key }] }, 'delete')).deleted;
  }

  async deletePrefix(prefix: string): Promise<number> {
    return (await this.#txn({ compares: [], success: [{ type: 'deletePrefix', prefix }] }, 'deletePrefix')).deleted;
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    validateRangeOptions(options);
    return this.#read('range', () => rangeRead(this.#db, prefix, options));
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const { succeeded, revision, gets } = await this.#txn(request, 'txn');
    return { succeeded, revision, gets };
  }

  watch(prefix: string, options: WatchOptions = {}): MetaWatch {
    if (options.fromRevision !== undefined) validateRevision(options.fromRevision, 'fromRevision');
    this.#ensureOpen('watch');
    const watch = new LevelWatch(this.#source, prefix, options.fromRevision, this.#watchQueueLimit, options.signal, (w) =>
      this.#watches.delete(w),
    );
    this.#watches.add(watch);
    return watch;
  }

  async revision(): Promise<number> {
    this.#ensureOpen('revision');
    return this.#writer.revision;
  }

  async compact(revision: number): Promise<void> {
    validateRevision(revision, 'revision');
    this.#ensureOpen('compact');
    await this.#writer.compact(revision);
  }

  async leaseGrant(ttlMs: number): Promise<LeaseGrant> {
    validateTtl(ttlMs);
    this.#ensureOpen('leaseGrant');
    return this.#writer.leaseGrant(ttlMs);
  }

  async leaseKeepAliveOnce(id: string): Promise<number> {
    validateLeaseId(id);
    this.#ensureOpen('leaseKeepAliveOnce');
    return this.#writer.leaseKeepAliveOnce(id);
  }

  async leaseRevoke(id: string): Promise<void> {
    validateLeaseId(id);
    this.#ensureOpen('leaseRevoke');
    await this.#writer.leaseRevoke(id);
  }

  /** Ends every watch (their iterations throw ON_SHUTDOWN), lets admitted writes and reads
   *  finish, then closes LevelDB. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#status = 'closing';
      const shutdown = StreamingError.onShutdown('meta store closed');
      await Promise.allSettled([...this.#watches].map((w) => w.shutdown(shutdown)));
      await this.#writer.stop();
      await Promise.allSettled([...this.#reads]);
      try {
        await this.#db.close();
      } finally {
        this.#status = 'closed';
      }
    })();
    return this.#closing;
  }

  #ensureOpen(what: string): void {
    if (this.#status !== 'open') throw storeClosed(what);
  }

  /** Runs a lock-free read, tracked so close() waits for it. */
  #read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.#ensureOpen(what);
    const p = fn().catch((e: unknown) => {
      throw this.#status === 'open' ? asMetaError(e, what) : storeClosed(what);
    });
    this.#reads.add(p);
    const forget = (): void => void this.#reads.delete(p);
    p.then(forget, forget);
    return p;
  }

  #txn(request: TxnRequest, what: string): Promise<TxnResult & { deleted: number }> {
    validateTxn(request);
    this.#ensureOpen(what);
    return this.#writer.txn(request, what);
  }
}
