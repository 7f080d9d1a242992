/**
 * The metadata store every component uses (coordinator catalog, node sessions, TSO, election).
 * Two implementations honour the same contract, checked by one conformance suite:
 * `EtcdMetaKV` (cluster mode, a real etcd through `etcd3`) and `LevelMetaKV` (standalone mode,
 * embedded on LevelDB with the same revision, watch and lease semantics).
 *
 * Revisions follow etcd: one store-wide counter, bumped once per successful write transaction;
 * every key carries `createRevision`, `modRevision` and `version` (writes since creation).
 * Revisions are plain numbers: an int64 counter never reaches 2^53 in practice.
 */

/** The `lease` of a key without a lease. */
export const NO_LEASE = '0';

/** One stored key. */
export interface KeyValue {
  readonly key: string;
  readonly value: Buffer;
  /** Revision of the write that created the key (since its last deletion). */
  readonly createRevision: number;
  /** Revision of the last write to the key. */
  readonly modRevision: number;
  /** Number of writes since creation (1 after the first put). */
  readonly version: number;
  /** Lease the key is attached to, `'0'` for none. Lease ids are decimal strings. */
  readonly lease: string;
}

/** A condition of a transaction, compared against the key's current state (a missing key has
 *  version 0, createRevision 0, modRevision 0, and no value). */
export type Compare =
  | { readonly key: string; readonly target: 'value'; readonly op: CompareOp; readonly value: Buffer | string }
  | { readonly key: string; readonly target: 'version' | 'createRevision' | 'modRevision'; readonly op: CompareOp; readonly value: number }
  | { readonly key: string; readonly target: 'lease'; readonly op: CompareOp; readonly value: string };

/** Comparison operators (etcd `Compare.CompareResult`). */
export type CompareOp = '==' | '!=' | '<' | '>';

/** One operation of a transaction branch. */
export type TxnOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Buffer | string; readonly lease?: string }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'deletePrefix'; readonly prefix: string }
  | { readonly type: 'get'; readonly key: string };

/** An etcd-style transaction: if every compare holds run `success`, else `failure`. */
export interface TxnRequest {
  readonly compares: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

/** What a transaction did. */
export interface TxnResult {
  readonly succeeded: boolean;
  /** Store revision after the transaction (unchanged when it wrote nothing). */
  readonly revision: number;
  /** Results of the `get` ops of the branch that ran, in order (undefined = key missing). */
  readonly gets: readonly (KeyValue | undefined)[];
}

/** Paging and revision of a range. */
export interface RangeOptions {
  /** Page size; at most this many keys are returned. Default: all. */
  readonly limit?: number;
  /** Return keys strictly greater than this one (for the next page). */
  readonly startAfter?: string;
  /** Read at this revision (etcd MVCC); default: latest. Fails (INNER) when it is compacted or in
   *  the future. Pass the revision of the first page to read later pages consistently. */
  readonly revision?: number;
}

/** One page of a range. */
export interface RangeResult {
  /** Keys in ascending byte order. */
  readonly kvs: readonly KeyValue[];
  /** True when more keys under the prefix follow the last one returned. */
  readonly more: boolean;
  /** The revision the range reflects: `options.revision` when given, else the current one
   *  (a watch from it + 1 then misses nothing). */
  readonly revision: number;
}

/** Kinds of change a watch reports. */
export type WatchEventType = 'put' | 'delete';

/** One change of one key. */
export interface WatchEvent {
  readonly type: WatchEventType;
  /** For a delete: key, empty value, modRevision = the deleting revision. */
  readonly kv: KeyValue;
}

/**
 * What a watch yields: batches of events, one batch per revision, in revision order; or, once, a
 * terminal `compacted` notice when the requested start revision is no longer available (the caller
 * must re-list; {@link listAndWatch} does it). A watch never silently skips revisions.
 */
export type WatchBatch =
  | { readonly kind: 'events'; readonly revision: number; readonly events: readonly WatchEvent[] }
  | { readonly kind: 'compacted'; readonly compactRevision: number };

/** Where a watch starts, and how to stop it. */
export interface WatchOptions {
  /** First revision to deliver (inclusive). Default: current revision + 1 (only new writes). */
  readonly fromRevision?: number;
  readonly signal?: AbortSignal;
}

/**
 * A watch of a key prefix: async-iterable (one iteration per watch). The iteration ends normally
 * after `close()`, after `signal` aborts, and after the terminal `compacted` notice; it throws a
 * StreamingError ON_SHUTDOWN when the store is closed under it.
 */
export interface MetaWatch extends AsyncIterable<WatchBatch> {
  /**
   * Resolves once the store has registered the watch. Without `fromRevision`, writes that
   * complete after this are delivered; writes racing it may or may not be. Rejects only when the
   * watch is closed before that happens.
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** A granted lease. */
export interface LeaseGrant {
  /** Decimal lease id. */
  readonly id: string;
  /** TTL granted by the store, ms (etcd rounds up to whole seconds, minimum 2 s here). */
  readonly ttlMs: number;
}

/** The metadata store contract (etcd semantics); see the file comment. */
export interface MetaKV {
  get(key: string): Promise<KeyValue | undefined>;
  /** Writes one key. A put with a lease that does not exist fails with UNRECOVERABLE. */
  put(key: string, value: Buffer | string, options?: { lease?: string }): Promise<{ revision: number }>;
  /** Deletes one key; resolves to the number of keys deleted (0 or 1). */
  delete(key: string): Promise<number>;
  /** Deletes every key under a prefix; resolves to the number of keys deleted. */
  deletePrefix(prefix: string): Promise<number>;
  /** Keys under a prefix, paged. */
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  /** An atomic compare-and-swap transaction (etcd `Txn`). */
  txn(request: TxnRequest): Promise<TxnResult>;
  /** Watches a key prefix. See {@link WatchBatch}. */
  watch(prefix: string, options?: WatchOptions): MetaWatch;
  /** Current store revision. */
  revision(): Promise<number>;
  /**
   * Discards history before `revision` (etcd `Compact`): watches and ranges at older revisions
   * then fail with a compacted notice/error. Fails when `revision` is already compacted or in
   * the future.
   */
  compact(revision: number): Promise<void>;

  /** Grants a lease of at least `ttlMs`. */
  leaseGrant(ttlMs: number): Promise<LeaseGrant>;
  /** Renews a lease once; resolves to the remaining TTL in ms. Rejects with a StreamingError
   *  UNRECOVERABLE when the lease is gone (expired or revoked), INNER when the store is unreachable. */
  leaseKeepAliveOnce(id: string): Promise<number>;
  /** Revokes a lease and deletes its keys. Revoking an unknown lease is a no-op. */
  leaseRevoke(id: string): Promise<void>;

  /** Closes the store (idempotent). */
  close(): Promise<void>;
}
