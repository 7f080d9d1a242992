/**
 * {@link MetaKV} on a real etcd (cluster mode), through the `etcd3` client's low-level RPC
 * clients (`kv`, `leaseClient`, `watchClient`).
 *
 * Deliberate choices, each against a known `etcd3` behaviour:
 * - etcd3's retry (3 attempts) and circuit breaker (opens for 5 s after 3 failures) are replaced
 *   by a pass-through policy: a retried `put` can apply twice, and an open breaker would fail
 *   calls for seconds after etcd is back. Callers retry (they know what is idempotent).
 * - Every unary call carries a deadline (`requestTimeoutMs`), so a stalled etcd (SIGSTOP, a
 *   half-open TCP connection) fails the call with INNER instead of hanging.
 * - No etcd3 auto-keepalive (`client.lease()`): the session layer runs its own keepalive loop
 *   with {@link EtcdMetaKV.leaseKeepAliveOnce}, since etcd3 reports lease loss late (#155).
 * - Watches use one raw stream each, see {@link EtcdWatch}.
 *
 * @example
 * ```ts
 * const kv = new EtcdMetaKV({ endpoints: ['http://127.0.0.1:2379'] });
 * await kv.put('by-dev/meta/x', 'v');
 * await kv.close();
 * ```
 */
import { Etcd3, type IOptions } from 'etcd3';
import { StreamingError } from '../errors/index.js';
import { fromEtcdKv, keyBytes, leaseOf, prefixRange, toEtcdCompare, toEtcdOp, valueBytes } from './etcd-convert.js';
import { mapEtcdError } from './etcd-errors.js';
import { leaseKeepAliveOnce } from './etcd-lease-keepalive.js';
import { EtcdWatch, type EtcdWatchTuning } from './etcd-watch.js';
import { prefixEnd, rangeStart } from './key-range.js';
import { storeClosed } from './meta-errors.js';
import {
  NO_LEASE,
  type KeyValue,
  type LeaseGrant,
  type MetaKV,
  type MetaWatch,
  type RangeOptions,
  type RangeResult,
  type TxnRequest,
  type TxnResult,
  type WatchOptions,
} from './meta-kv.js';
import { validateKey, validateLeaseId, validateRangeOptions, validateRevision, validateTtl, validateTxn } from './validate-txn.js';

/** Options of {@link EtcdMetaKV}. */
export interface EtcdMetaKVOptions {
  /** Client URLs, e.g. `['http://127.0.0.1:2379']`. */
  readonly endpoints: readonly string[];
  /** Deadline of each request, ms (default 5000). */
  readonly requestTimeoutMs?: number;
  /** Watch stream timing; see {@link EtcdWatchTuning}. */
  readonly watch?: Partial<EtcdWatchTuning>;
}

/** Default deadline of one etcd request. */
export const DEFAULT_ETCD_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_WATCH_TUNING: EtcdWatchTuning = {
  progressIntervalMs: 3_000,
  retryInitialMs: 100,
  retryMaxMs: 2_000,
  queueLimit: 1_000,
};

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;

/** Runs each call once. etcd3 only calls `execute`; the cast stands in for cockatiel's type,
 *  which is not our dependency. */
const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal; attempt: number }) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal, attempt: 0 })),
} as unknown as Policy;

/** MetaKV on etcd; see the file comment for the choices made against etcd3 behaviours. */
export class EtcdMetaKV implements MetaKV {
  readonly #client: Etcd3;
  readonly #timeoutMs: number;
  readonly #watchTuning: EtcdWatchTuning;
  readonly #watches = new Set<EtcdWatch>();
  #closing: Promise<void> | undefined;

  constructor(options: EtcdMetaKVOptions) {
    if (options.endpoints.length === 0) throw StreamingError.invalidArgument('endpoints', 'at least one etcd endpoint is needed');
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_ETCD_REQUEST_TIMEOUT_MS;
    this.#watchTuning = { ...DEFAULT_WATCH_TUNING, ...options.watch };
    const timeoutMs = this.#timeoutMs;
    this.#client = new Etcd3({
      hosts: [...options.endpoints],
      // Streams (watch, keepalive) live long and time out on their own terms.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      faultHandling: { global: passThrough, host: () => passThrough },
      grpcOptions: {
        // Reconnect quickly after an etcd restart instead of grpc's default backoff up to 120 s.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1_000,
        // Notice a dead connection; etcd refuses pings more often than every 5 s.
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      },
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    validateKey(key);
    const res = await this.#call('get', () => this.#client.kv.range({ key: keyBytes(key) }));
    const kv = res.kvs[0];
    return kv === undefined ? undefined : fromEtcdKv(kv);
  }

  async put(key: string, value: Buffer | string, options: { lease?: string } = {}): Promise<{ revision: number }> {
    validateKey(key);
    const lease = options.lease ?? NO_LEASE;
    validateLeaseId(lease);
    const res = await this.#call('put', () => this.#client.kv.put({ key: keyBytes(key), value: valueBytes(value), lease }), { lease });
    return { revision: Number(res.header.revision) };
  }

  async delete(key: string): Promise<number> {
    validateKey(key);
    const res = await this.#call('delete', () => this.#client.kv.deleteRange({ key: keyBytes(key) }));
    return Number(res.deleted);
  }

  async deletePrefix(prefix: string): Promise<number> {
    const res = await this.#call('deletePrefix', () => this.#client.kv.deleteRange(prefixRange(prefix)));
    return Number(res.deleted);
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    validateRangeOptions(options);
    const prefixBytes = Buffer.from(prefix, 'utf8');
    const start = rangeStart(prefixBytes, options.startAfter);
    const res = await this.#call('range', () =>
      this.#client.kv.range({
        key: start.length === 0 ? keyBytes('') : start,
        range_end: prefixEnd(prefixBytes),
        limit: options.limit ?? 0,
        revision: options.revision ?? 0,
      }),
    );
    // etcd's header carries the current revision even for a read at an older one; the contract
    // is the revision the data reflects (so a watch from it + 1 misses nothing).
    return { kvs: res.kvs.map(fromEtcdKv), more: res.more, revision: options.revision ?? Number(res.header.revision) };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    validateTxn(request);
    const lease = leaseOf(request.success) ?? leaseOf(request.failure ?? []);
    const res = await this.#call(
      'txn',
      () =>
        this.#client.kv.txn({
          compare: request.compares.map(toEtcdCompare),
          success: request.success.map(toEtcdOp),
          failure: (request.failure ?? []).map(toEtcdOp),
        }),
      lease === undefined ? {} : { lease },
    );
    const ops = res.succeeded ? request.success : (request.failure ?? []);
    const gets: (KeyValue | undefined)[] = [];
    ops.forEach((op, i) => {
      if (op.type !== 'get') return;
      const kv = res.responses[i]?.response_range?.kvs[0];
      gets.push(kv === undefined ? undefined : fromEtcdKv(kv));
    });
    return { succeeded: res.succeeded, revision: Number(res.header.revision), gets };
  }

  watch(prefix: string, options: WatchOptions = {}): MetaWatch {
    if (options.fromRevision !== undefined) validateRevision(options.fromRevision, 'fromRevision');
    if (this.#closing !== undefined) throw storeClosed('watch');
    const watch = new EtcdWatch(this.#client, prefix, options, this.#watchTuning, (w) => this.#watches.delete(w));
    this.#watches.add(watch);
    return watch;
  }

  async revision(): Promise<number> {
    const res = await this.#call('revision', () => this.#client.kv.range({ key: keyBytes('\0'), keys_only: true, limit: 1 }));
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    validateRevision(revision, 'revision');
    await this.#call('compact', () => this.#client.kv.compact({ revision, physical: true }));
  }

  async leaseGrant(ttlMs: number): Promise<LeaseGrant> {
    validateTtl(ttlMs);
    const ttlSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
    const res = await this.#call('leaseGrant', () => this.#client.leaseClient.leaseGrant({ TTL: ttlSeconds }));
    if (res.error !== '') throw StreamingError.inner(`etcd leaseGrant failed: ${res.error}`);
    return { id: res.ID, ttlMs: Number(res.TTL) * 1000 };
  }

  async leaseKeepAliveOnce(id: string): Promise<number> {
    validateLeaseId(id);
    return this.#call('leaseKeepAliveOnce', () => leaseKeepAliveOnce(this.#client, id, this.#timeoutMs), { lease: id });
  }

  async leaseRevoke(id: string): Promise<void> {
    validateLeaseId(id);
    try {
      await this.#call('leaseRevoke', () => this.#client.leaseClient.leaseRevoke({ ID: id }), { lease: id });
    } catch (e) {
      // Revoking a lease that is already gone is a no-op (the interface promises it).
      if (e instanceof StreamingError && e.isUnrecoverable()) return;
      throw e;
    }
  }

  /** Closes every open watch, then the client. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const shutdown = StreamingError.onShutdown('meta store closed');
      await Promise.allSettled([...this.#watches].map((w) => w.shutdown(shutdown)));
      this.#client.close();
    })();
    return this.#closing;
  }

  #ensureOpen(what: string): void {
    if (this.#closing !== undefined) throw storeClosed(what);
  }

  async #call<T>(what: string, fn: () => Promise<T>, context: { lease?: string } = {}): Promise<T> {
    this.#ensureOpen(what);
    try {
      return await fn();
    } catch (e) {
      // A call cut short by close() failed because of the shutdown, whatever grpc says.
      throw this.#closing === undefined ? mapEtcdError(e, what, context) : storeClosed(what);
    }
  }
}
