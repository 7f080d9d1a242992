/**
 * {@link Catalog} on a {@link MetaKV} (etcd in cluster mode, the embedded LevelDB store in
 * standalone mode), with Milvus's key layout and binary protobuf values, so a Milvus 2.6
 * coordinator's records read back here and ours there (`internal/metastore/kv/streamingcoord`).
 *
 * Writes behave like Milvus `ReliableWriteMetaKv` + `SaveByBatchWithLimit`: each batch of at most
 * `maxTxnOps` operations is one transaction, retried with exponential backoff (10 ms → 1 s, no
 * deadline) until it succeeds or the caller's signal aborts. Batches are not atomic together, and
 * a save that was aborted may or may not have been applied: callers change their in-memory state
 * only after a save resolved. Reads are not retried (recovery fails and is retried as a whole).
 */
import {
  Backoff,
  MAX_TXN_OPS,
  StreamingCode,
  StreamingError,
  abortableSleep,
  noopLogger,
  raceAbort,
  type BackoffOptions,
  type Logger,
  type MetaKV,
  type TxnOp,
} from '../../shared/index.js';
import type { Catalog, PChannelMeta, VChannelMeta } from './catalog.js';
import {
  decodeCChannel,
  decodePChannelMeta,
  decodeVChannelMeta,
  decodeVersion,
  encodeCChannel,
  encodePChannelMeta,
  encodeVChannelMeta,
  encodeVersion,
} from './catalog-codec.js';
import { CatalogKeys, DEFAULT_META_ROOT } from './catalog-keys.js';

/** Milvus `MaxEtcdTxnNum` (2.6): operations per write transaction. */
export const DEFAULT_CATALOG_TXN_OPS = 128;
/** Keys fetched per range request when listing. */
export const DEFAULT_CATALOG_PAGE_SIZE = 256;
/** Milvus `ReliableWriteMetaKv` backoff: 10 ms, doubling, capped at 1 s, forever. */
export const DEFAULT_CATALOG_WRITE_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 10,
  maxMs: 1_000,
  multiplier: 2,
  jitter: 0.2,
});

/** Options of {@link MetaCatalog}. */
export interface MetaCatalogOptions {
  /** Meta root the keys live under; default `by-dev/meta` (trailing slashes are dropped). */
  readonly rootPath?: string;
  /** Operations per transaction, 1..128; default {@link DEFAULT_CATALOG_TXN_OPS}. */
  readonly maxTxnOps?: number;
  /** Keys per range page when listing; default {@link DEFAULT_CATALOG_PAGE_SIZE}. */
  readonly pageSize?: number;
  /** Retry delays of writes; default {@link DEFAULT_CATALOG_WRITE_BACKOFF}. */
  readonly writeBackoff?: Partial<BackoffOptions>;
  /** Where write retries are reported (warn); silent by default. */
  readonly logger?: Logger;
}

/** Options of every write. */
export interface CatalogWriteOptions {
  /** Stops the retries: the save rejects with the reason (a StreamingError) or ON_SHUTDOWN. */
  readonly signal?: AbortSignal;
}

/**
 * The coordinator catalog on a meta store. Stateless apart from its configuration: several
 * instances on one store see the same data.
 *
 * @example
 * ```ts
 * const catalog = new MetaCatalog(kv, { rootPath: 'by-dev/meta' });
 * await catalog.savePChannels(metas, { signal: server.signal });
 * const recovered = await catalog.listPChannels();
 * ```
 */
export class MetaCatalog implements Catalog {
  /** The key layout this catalog reads and writes. */
  readonly keys: CatalogKeys;
  readonly #kv: MetaKV;
  readonly #maxTxnOps: number;
  readonly #pageSize: number;
  readonly #backoff: Partial<BackoffOptions>;
  readonly #logger: Logger;

  constructor(kv: MetaKV, options: MetaCatalogOptions = {}) {
    this.#kv = kv;
    this.keys = new CatalogKeys(options.rootPath ?? DEFAULT_META_ROOT);
    this.#maxTxnOps = intIn(options.maxTxnOps ?? DEFAULT_CATALOG_TXN_OPS, 1, MAX_TXN_OPS, 'maxTxnOps');
    this.#pageSize = intIn(options.pageSize ?? DEFAULT_CATALOG_PAGE_SIZE, 1, Number.MAX_SAFE_INTEGER, 'pageSize');
    this.#backoff = { ...DEFAULT_CATALOG_WRITE_BACKOFF, ...options.writeBackoff };
    // Checked now, so a bad option fails the constructor rather than the first write.
    new Backoff(this.#backoff);
    this.#logger = (options.logger ?? noopLogger).child({ component: 'catalog' });
  }

  // ---- pchannels ----

  async listPChannels(): Promise<PChannelMeta[]> {
    return this.#list(this.keys.pchannelPrefix, decodePChannelMeta);
  }

  async savePChannels(metas: readonly PChannelMeta[], options: CatalogWriteOptions = {}): Promise<void> {
    // One put per pchannel, the last meta of a name winning (Milvus builds a map), because a
    // transaction may not write a key twice.
    const ops = new Map<string, TxnOp>();
    for (const meta of metas) {
      const key = this.keys.pchannel(meta.channel.name);
      ops.delete(key);
      ops.set(key, { type: 'put', key, value: encodePChannelMeta(meta) });
    }
    await this.#writeBatched([...ops.values()], 'save pchannels', options.signal);
  }

  // ---- version and control channel ----

  async getVersion(): Promise<bigint | undefined> {
    const key = this.keys.version;
    const kv = await this.#kv.get(key);
    return kv === undefined ? undefined : decodeVersion(key, kv.value);
  }

  async saveVersion(version: bigint, options: CatalogWriteOptions = {}): Promise<void> {
    const key = this.keys.version;
    await this.#writeBatched([{ type: 'put', key, value: encodeVersion(version) }], 'save version', options.signal);
  }

  async getCChannel(): Promise<string | undefined> {
    const key = this.keys.cchannel;
    const kv = await this.#kv.get(key);
    return kv === undefined ? undefined : decodeCChannel(key, kv.value);
  }

  async saveCChannel(pchannel: string, options: CatalogWriteOptions = {}): Promise<void> {
    const key = this.keys.cchannel;
    await this.#writeBatched([{ type: 'put', key, value: encodeCChannel(pchannel) }], 'save cchannel', options.signal);
  }

  // ---- vchannels ----

  async listVChannels(): Promise<VChannelMeta[]> {
    return this.#list(this.keys.vchannelPrefix, decodeVChannelMeta);
  }

  async saveVChannels(metas: readonly VChannelMeta[], options: CatalogWriteOptions = {}): Promise<void> {
    const ops = new Map<string, TxnOp>();
    for (const meta of metas) {
      const key = this.keys.vchannel(meta.vchannel);
      ops.delete(key);
      ops.set(key, { type: 'put', key, value: encodeVChannelMeta(meta) });
    }
    await this.#writeBatched([...ops.values()], 'save vchannels', options.signal);
  }

  async removeVChannels(names: readonly string[], options: CatalogWriteOptions = {}): Promise<void> {
    const keys = new Set(names.map((name) => this.keys.vchannel(name)));
    const ops: TxnOp[] = [...keys].map((key) => ({ type: 'delete', key }));
    await this.#writeBatched(ops, 'remove vchannels', options.signal);
  }

  // ---- plumbing ----

  /**
   * Every record under `prefix`, one bounded page at a time. Later pages are read at the first
   * page's revision, so the listing is one consistent snapshot even while others write.
   */
  async #list<T>(prefix: string, decode: (key: string, name: string, value: Buffer) => T): Promise<T[]> {
    const out: T[] = [];
    let startAfter: string | undefined;
    let revision: number | undefined;
    for (;;) {
      const page = await this.#kv.range(prefix, {
        limit: this.#pageSize,
        ...(startAfter === undefined ? {} : { startAfter }),
        ...(revision === undefined ? {} : { revision }),
      });
      revision ??= page.revision;
      for (const kv of page.kvs) out.push(decode(kv.key, kv.key.slice(prefix.length), kv.value));
      const last = page.kvs[page.kvs.length - 1];
      if (!page.more || last === undefined) return out;
      startAfter = last.key;
    }
  }

  /** Writes `ops` in transactions of at most `maxTxnOps`, in order, each retried until done. */
  async #writeBatched(ops: readonly TxnOp[], what: string, signal: AbortSignal | undefined): Promise<void> {
    for (let start = 0; start < ops.length; start += this.#maxTxnOps) {
      await this.#reliableTxn(ops.slice(start, start + this.#maxTxnOps), what, signal);
    }
  }

  /**
   * One transaction, retried forever with backoff (every failure but a rejected request or a
   * closed store, which no retry can fix). Puts and deletes are idempotent, so repeating a
   * transaction whose outcome was lost (a timeout) is safe.
   */
  async #reliableTxn(ops: readonly TxnOp[], what: string, signal: AbortSignal | undefined): Promise<void> {
    const backoff = new Backoff(this.#backoff);
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortedWrite(signal, what);
      try {
        // The attempt itself cannot be cancelled; racing it lets an abort return at once.
        await raceAbort(this.#kv.txn({ compares: [], success: ops }), signal);
        return;
      } catch (error) {
        if (signal?.aborted) throw abortedWrite(signal, what);
        if (!retriable(error)) throw error;
        const delayMs = backoff.next();
        this.#logger.warn({ err: error, attempt, ops: ops.length, delayMs }, `catalog ${what} failed, retrying`);
        await abortableSleep(delayMs, signal).catch(() => {
          throw abortedWrite(signal as AbortSignal, what);
        });
      }
    }
  }
}

/** A failed write worth repeating: anything but bad input or a closed store. */
function retriable(error: unknown): boolean {
  if (!(error instanceof StreamingError)) return true;
  return error.code !== StreamingCode.INVAILD_ARGUMENT && error.code !== StreamingCode.ON_SHUTDOWN;
}

/** The error of an aborted write: the signal's StreamingError reason, else ON_SHUTDOWN. */
function abortedWrite(signal: AbortSignal, what: string): StreamingError {
  const reason: unknown = signal.reason;
  if (reason instanceof StreamingError) return reason;
  return new StreamingError(StreamingCode.ON_SHUTDOWN, `catalog ${what} aborted before it completed`, { cause: reason });
}

function intIn(value: number, min: number, max: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw StreamingError.invalidArgument(field, `must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}
