/**
 * On-disk layout of the embedded meta store (one LevelDB, Buffer keys, bytewise order):
 *
 * | key                         | value                                             |
 * |-----------------------------|---------------------------------------------------|
 * | `k` + utf8 key              | a KeyValue record (binary, see {@link encodeKv})  |
 * | `h` + u64be revision        | the change events of that revision (JSON)         |
 * | `l` + u64be lease id        | `{ttlMs, expiresAt}` (JSON, wall-clock ms)        |
 * | `m` + name                  | counters: `revision`, `compact`, `lease-seq` (u64be) |
 *
 * Every write of a revision puts its data keys, its history record and the new `m/revision` in
 * one batch, so a crash leaves either all of a revision or none of it.
 */
import { NO_LEASE, type KeyValue, type WatchEvent } from './meta-kv.js';

const DATA = 0x6b; // 'k'
const HISTORY = 0x68; // 'h'
const LEASE = 0x6c; // 'l'
const META = 0x6d; // 'm'

const metaKey = (name: string): Buffer => Buffer.concat([Buffer.from([META]), Buffer.from(name)]);
/** Counter keys: the store revision, the compact revision, the last lease id. */
export const META_REVISION = metaKey('revision');
export const META_COMPACT = metaKey('compact');
export const META_LEASE_SEQ = metaKey('lease-seq');

/** 8-byte big-endian unsigned integer (sorts like the number). */
export function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Reads a {@link u64}; `fallback` when the key was absent. */
export function readU64(b: Buffer | undefined, fallback: number): number {
  return b === undefined ? fallback : Number(b.readBigUInt64BE(0));
}

/** The LevelDB key of a user key (or key prefix). */
export function dataKey(key: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from([DATA]), typeof key === 'string' ? Buffer.from(key, 'utf8') : key]);
}

/** First key after every data key (the end of an unbounded data range). */
export const DATA_END = Buffer.from([DATA + 1]);

/** The user key of a data key. */
export function keyOfDataKey(k: Buffer): string {
  return k.subarray(1).toString('utf8');
}

/** The LevelDB key of the history record of `revision`. */
export function historyKey(revision: number): Buffer {
  return Buffer.concat([Buffer.from([HISTORY]), u64(revision)]);
}

/** The revision of a history key. */
export function revisionOfHistoryKey(k: Buffer): number {
  return Number(k.readBigUInt64BE(1));
}

/** The LevelDB key of a lease record. */
export function leaseKey(id: string): Buffer {
  return Buffer.concat([Buffer.from([LEASE]), u64(BigInt(id))]);
}

/** Bounds of the lease and counter key spaces. */
export const LEASE_START = Buffer.from([LEASE]);
export const LEASE_END = Buffer.from([LEASE + 1]);

/** The lease id of a lease key. */
export function leaseIdOfKey(k: Buffer): string {
  return k.readBigUInt64BE(1).toString();
}

/** A KeyValue record: u64 createRevision, modRevision, version, lease; then the value bytes. */
export function encodeKv(kv: KeyValue): Buffer {
  const head = Buffer.alloc(32);
  head.writeBigUInt64BE(BigInt(kv.createRevision), 0);
  head.writeBigUInt64BE(BigInt(kv.modRevision), 8);
  head.writeBigUInt64BE(BigInt(kv.version), 16);
  head.writeBigUInt64BE(BigInt(kv.lease), 24);
  return Buffer.concat([head, kv.value]);
}

/** Reads an {@link encodeKv} record of `key`. */
export function decodeKv(key: string, b: Buffer): KeyValue {
  return {
    key,
    createRevision: Number(b.readBigUInt64BE(0)),
    modRevision: Number(b.readBigUInt64BE(8)),
    version: Number(b.readBigUInt64BE(16)),
    lease: b.readBigUInt64BE(24).toString(),
    value: Buffer.from(b.subarray(32)),
  };
}

/** One change of a revision, with the key's state before it (for reads at older revisions). */
export interface HistoryEvent {
  readonly type: 'put' | 'delete';
  /** For a put the new state; for a delete etcd's tombstone shape (see {@link tombstone}). */
  readonly kv: KeyValue;
  readonly prev: KeyValue | undefined;
}

/** What etcd reports for a deleted key: key, deleting revision, everything else zero. */
export function tombstone(key: string, revision: number): KeyValue {
  return { key, value: Buffer.alloc(0), createRevision: 0, modRevision: revision, version: 0, lease: NO_LEASE };
}

interface StoredKv {
  readonly k: string;
  readonly v: string;
  readonly c: number;
  readonly m: number;
  readonly n: number;
  readonly l: string;
}
interface StoredEvent {
  readonly t: 'p' | 'd';
  readonly kv: StoredKv;
  readonly p?: StoredKv;
}

const toStored = (kv: KeyValue): StoredKv => ({
  k: kv.key,
  v: kv.value.toString('base64'),
  c: kv.createRevision,
  m: kv.modRevision,
  n: kv.version,
  l: kv.lease,
});
const fromStored = (s: StoredKv): KeyValue => ({
  key: s.k,
  value: Buffer.from(s.v, 'base64'),
  createRevision: s.c,
  modRevision: s.m,
  version: s.n,
  lease: s.l,
});

/** A revision's events as a history record. */
export function encodeHistory(events: readonly HistoryEvent[]): Buffer {
  const stored: StoredEvent[] = events.map((e) => ({
    t: e.type === 'put' ? 'p' : 'd',
    kv: toStored(e.kv),
    ...(e.prev === undefined ? {} : { p: toStored(e.prev) }),
  }));
  return Buffer.from(JSON.stringify(stored), 'utf8');
}

/** Reads an {@link encodeHistory} record. */
export function decodeHistory(b: Buffer): HistoryEvent[] {
  const stored = JSON.parse(b.toString('utf8')) as StoredEvent[];
  return stored.map((s) => ({
    type: s.t === 'p' ? 'put' : 'delete',
    kv: fromStored(s.kv),
    prev: s.p === undefined ? undefined : fromStored(s.p),
  }));
}

/** What a watcher sees of a history event. */
export function toWatchEvent(e: HistoryEvent): WatchEvent {
  return { type: e.type, kv: e.kv };
}

/** A persisted lease: its TTL and absolute deadline (wall-clock ms). */
export interface StoredLease {
  readonly ttlMs: number;
  readonly expiresAt: number;
}

/** A lease record. */
export function encodeLease(lease: StoredLease): Buffer {
  return Buffer.from(JSON.stringify({ ttlMs: lease.ttlMs, expiresAt: lease.expiresAt }), 'utf8');
}

/** Reads an {@link encodeLease} record. */
export function decodeLease(b: Buffer): StoredLease {
  return JSON.parse(b.toString('utf8')) as StoredLease;
}
