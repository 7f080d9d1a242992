/**
 * The write path of the embedded meta store: everything that changes state runs here, one at a
 * time under one async lock. Each change is a single LevelDB batch written with `sync: true`
 * (data keys + history record + revision counter, plus any lease record); only after the batch
 * is durable does the in-memory state move and is `onCommit` called, synchronously, so live
 * watches see revisions in order and exactly once.
 *
 * Leases carry an absolute wall-clock expiry; a timer revokes expired leases (one revision per
 * lease, delete events for its keys). `load()` purges leases that expired while closed.
 */
import { StreamingError, isStreamingError } from '../errors/index.js';
import { isUnbounded, prefixEnd } from './key-range.js';
import {
  DATA_END,
  LEASE_END,
  LEASE_START,
  META_COMPACT,
  META_LEASE_SEQ,
  META_REVISION,
  dataKey,
  decodeKv,
  decodeLease,
  encodeHistory,
  encodeKv,
  encodeLease,
  historyKey,
  keyOfDataKey,
  leaseIdOfKey,
  leaseKey,
  readU64,
  tombstone,
  u64,
  type HistoryEvent,
} from './level-codec.js';
import { LeaseTable } from './level-leases.js';
import type { MetaDb } from './level-reads.js';
import { planTxn, type TxnState } from './level-txn.js';
import { futureRevision, leaseNotFound, revisionCompacted } from './meta-errors.js';
import type { KeyValue, LeaseGrant, TxnRequest, TxnResult } from './meta-kv.js';
import { Mutex } from '../util/index.js';

/** Settings of the write path (see `LevelMetaKVOptions`). */
export interface LevelWriterOptions {
  readonly historyLimit: number;
  readonly sync: boolean;
  readonly onBackgroundError: (error: StreamingError) => void;
}

/** Called after each committed revision, before the write resolves. */
export type CommitListener = (revision: number, events: readonly HistoryEvent[]) => void;

type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

const EXPIRY_RETRY_MS = 1_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A StreamingError as is; anything else (a LevelDB failure) as INNER with the cause. */
export function asMetaError(e: unknown, what: string): StreamingError {
  return isStreamingError(e) ? e : StreamingError.inner(`meta store ${what} failed`, e);
}

/** The serialised write path of the embedded store. */
export class LevelWriter {
  readonly #db: MetaDb;
  readonly #options: LevelWriterOptions;
  readonly #onCommit: CommitListener;
  readonly #mutex = new Mutex();
  readonly #leases = new LeaseTable();
  #revision = 1;
  #compactRevision = 0;
  #leaseSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** Committed-state reads, used by txns (under the lock) and by plain gets. */
  readonly state: TxnState = {
    read: async (key) => {
      const v = await this.#db.get(dataKey(key));
      return v === undefined ? undefined : decodeKv(key, v);
    },
    readPrefix: async (prefix) => {
      const end = prefixEnd(Buffer.from(prefix, 'utf8'));
      const out: KeyValue[] = [];
      const range = { gte: dataKey(prefix), lt: isUnbounded(end) ? DATA_END : dataKey(end) };
      for await (const [k, v] of this.#db.iterator(range)) out.push(decodeKv(keyOfDataKey(k), v));
      return out;
    },
    leaseAlive: (id) => this.#leases.alive(id, Date.now()),
  };

  constructor(db: MetaDb, options: LevelWriterOptions, onCommit: CommitListener) {
    this.#db = db;
    this.#options = options;
    this.#onCommit = onCommit;
  }

  /** The last committed revision. */
  get revision(): number {
    return this.#revision;
  }

  /** The oldest revision still in the history (0: nothing compacted yet). */
  get compactRevision(): number {
    return this.#compactRevision;
  }

  /** Reads counters, leases and lease attachments; purges expired leases; arms the timer. */
  async load(): Promise<void> {
    const [rev, compact, seq] = await this.#db.getMany([META_REVISION, META_COMPACT, META_LEASE_SEQ]);
    this.#revision = readU64(rev, 1);
    this.#compactRevision = readU64(compact, 0);
    this.#leaseSeq = readU64(seq, 0);
    // History below the compact revision may survive a crash in the middle of compact().
    if (this.#compactRevision > 0) await this.#db.clear({ gte: historyKey(0), lt: historyKey(this.#compactRevision) });
    for await (const [k, v] of this.#db.iterator({ gte: LEASE_START, lt: LEASE_END })) this.#leases.set(leaseIdOfKey(k), decodeLease(v));
    for await (const [k, v] of this.#db.iterator({ gte: dataKey(''), lt: DATA_END })) {
      const kv = decodeKv(keyOfDataKey(k), v);
      this.#leases.attach(kv.key, kv.lease);
    }
    await this.#mutex.runExclusive(() => this.#expireDue());
    this.#schedule();
  }

  /** Stops the lease timer and waits for every admitted write. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Waits for every queued mutation: the lock is FIFO.
    await this.#mutex.runExclusive(() => undefined);
  }

  /** Runs a (validated) transaction. */
  txn(request: TxnRequest, what: string): Promise<TxnResult & { deleted: number }> {
    return this.#mutate(what, async () => {
      const plan = await planTxn(this.state, request, this.#revision + 1);
      const revision = await this.#commit(plan.events);
      return { succeeded: plan.succeeded, revision, gets: plan.gets, deleted: plan.deleted };
    });
  }

  async compact(revision: number): Promise<void> {
    await this.#mutate('compact', async () => {
      if (revision > this.#revision) throw futureRevision(revision, this.#revision);
      if (revision <= this.#compactRevision) throw revisionCompacted(revision, this.#compactRevision);
      // Record the new bound first: a crash before the clear only leaves garbage that open() drops.
      await this.#db.put(META_COMPACT, u64(revision), { sync: this.#options.sync });
      this.#compactRevision = revision;
      await this.#db.clear({ gte: historyKey(0), lt: historyKey(revision) });
    });
  }

  async leaseGrant(ttlMs: number): Promise<LeaseGrant> {
    // Whole seconds, like etcd (whose minimum is larger: 2 s with default election timing).
    const granted = Math.max(1, Math.ceil(ttlMs / 1000)) * 1000;
    return this.#mutate('leaseGrant', async () => {
      const seq = this.#leaseSeq + 1;
      const id = String(seq);
      const lease = { ttlMs: granted, expiresAt: Date.now() + granted };
      await this.#db.batch(
        [
          { type: 'put', key: leaseKey(id), value: encodeLease(lease) },
          { type: 'put', key: META_LEASE_SEQ, value: u64(seq) },
        ],
        { sync: this.#options.sync },
      );
      this.#leaseSeq = seq;
      this.#leases.set(id, lease);
      this.#schedule();
      return { id, ttlMs: granted };
    });
  }

  async leaseKeepAliveOnce(id: string): Promise<number> {
    return this.#mutate('leaseKeepAliveOnce', async () => {
      const current = this.#leases.get(id);
      if (current === undefined || !this.#leases.alive(id, Date.now())) throw leaseNotFound(id);
      const lease = { ttlMs: current.ttlMs, expiresAt: Date.now() + current.ttlMs };
      await this.#db.put(leaseKey(id), encodeLease(lease), { sync: this.#options.sync });
      this.#leases.set(id, lease);
      this.#schedule();
      return lease.ttlMs;
    });
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.#mutate('leaseRevoke', () => this.#dropLease(id));
  }

  #mutate<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.#mutex.runExclusive(async () => {
      try {
        return await fn();
      } catch (e) {
        throw asMetaError(e, what);
      }
    });
  }

  /**
   * Writes one revision (or, without events, just `extra`) as one durable batch, then moves the
   * in-memory state and offers the revision to live watches, synchronously. Under the lock.
   */
  async #commit(events: readonly HistoryEvent[], extra: readonly BatchOp[] = []): Promise<number> {
    if (events.length === 0) {
      if (extra.length > 0) await this.#db.batch([...extra], { sync: this.#options.sync });
      return this.#revision;
    }
    const revision = this.#revision + 1;
    const ops: BatchOp[] = events.map((e) =>
      e.type === 'put' ? { type: 'put', key: dataKey(e.kv.key), value: encodeKv(e.kv) } : { type: 'del', key: dataKey(e.kv.key) },
    );
    ops.push({ type: 'put', key: historyKey(revision), value: encodeHistory(events) });
    ops.push({ type: 'put', key: META_REVISION, value: u64(revision) });
    // Retention: keep the last `historyLimit` revisions (normally drops exactly one record).
    const keepFrom = revision - this.#options.historyLimit + 1;
    let compactRevision = this.#compactRevision;
    if (keepFrom > compactRevision) {
      for (let r = Math.max(compactRevision, 2); r < keepFrom; r++) ops.push({ type: 'del', key: historyKey(r) });
      ops.push({ type: 'put', key: META_COMPACT, value: u64(keepFrom) });
      compactRevision = keepFrom;
    }
    ops.push(...extra);
    await this.#db.batch(ops, { sync: this.#options.sync });
    this.#revision = revision;
    this.#compactRevision = compactRevision;
    this.#leases.apply(events);
    this.#onCommit(revision, events);
    return revision;
  }

  /** Revokes a lease: deletes its keys as one revision and its record. Under the lock. */
  async #dropLease(id: string): Promise<void> {
    if (this.#leases.get(id) === undefined) return;
    const events: HistoryEvent[] = [];
    for (const key of this.#leases.keysOf(id)) {
      const prev = await this.state.read(key);
      if (prev !== undefined && prev.lease === id) events.push({ type: 'delete', kv: tombstone(key, this.#revision + 1), prev });
    }
    await this.#commit(events, [{ type: 'del', key: leaseKey(id) }]);
    this.#leases.delete(id);
  }

  async #expireDue(): Promise<void> {
    for (const id of this.#leases.expired(Date.now())) await this.#dropLease(id);
  }

  /** Arms the timer for the earliest lease deadline. */
  #schedule(delayMs?: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const next = this.#leases.nextExpiry();
    if (this.#stopped || next === undefined) return;
    const delay = Math.min(delayMs ?? Math.max(0, next - Date.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      this.#mutex.runExclusive(() => this.#expireDue()).then(
        () => this.#schedule(),
        (e: unknown) => {
          this.#options.onBackgroundError(asMetaError(e, 'lease expiry'));
          this.#schedule(EXPIRY_RETRY_MS);
        },
      );
    }, delay);
    this.#timer.unref();
  }
}
