/**
 * Conversions between the MetaKV types and etcd's wire messages (as `etcd3` exposes them:
 * int64 as decimal strings, enums by name, keys and values as Buffers).
 */
import type { ICompare, IKeyValue, IRequestOp, IEvent } from 'etcd3';
import { prefixEnd } from './key-range.js';
import { NO_LEASE, type Compare, type CompareOp, type KeyValue, type TxnOp, type WatchEvent } from './meta-kv.js';

const RESULT: Record<CompareOp, NonNullable<ICompare['result']>> = {
  '==': 'Equal',
  '!=': 'NotEqual',
  '<': 'Less',
  '>': 'Greater',
};

/** Key bytes; etcd rejects an empty key, so the empty prefix ("everything") starts at `\0`. */
export function keyBytes(key: string): Buffer {
  return key.length === 0 ? Buffer.from([0]) : Buffer.from(key, 'utf8');
}

/** A value as bytes (strings are UTF-8). */
export function valueBytes(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** `{key, range_end}` covering every key under `prefix`. */
export function prefixRange(prefix: string): { key: Buffer; range_end: Buffer } {
  return { key: keyBytes(prefix), range_end: prefixEnd(Buffer.from(prefix, 'utf8')) };
}

/** An etcd KeyValue as ours (int64 strings → numbers, key → string). */
export function fromEtcdKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease === '' ? NO_LEASE : kv.lease,
  };
}

/** An etcd watch event as ours. */
export function fromEtcdEvent(event: IEvent): WatchEvent {
  return { type: event.type === 'Delete' ? 'delete' : 'put', kv: fromEtcdKv(event.kv) };
}

/** One of our compares as an etcd `Compare`. */
export function toEtcdCompare(c: Compare): ICompare {
  const base = { key: keyBytes(c.key), result: RESULT[c.op] };
  switch (c.target) {
    case 'value':
      return { ...base, target: 'Value', value: valueBytes(c.value) };
    case 'version':
      return { ...base, target: 'Version', version: c.value };
    case 'createRevision':
      return { ...base, target: 'Create', create_revision: c.value };
    case 'modRevision':
      return { ...base, target: 'Mod', mod_revision: c.value };
    case 'lease':
      return { ...base, target: 'Lease', lease: c.value };
  }
}

/** One of our txn ops as an etcd `RequestOp`. */
export function toEtcdOp(op: TxnOp): IRequestOp {
  switch (op.type) {
    case 'put':
      return { request_put: { key: keyBytes(op.key), value: valueBytes(op.value), lease: op.lease ?? NO_LEASE } };
    case 'delete':
      return { request_delete_range: { key: keyBytes(op.key) } };
    case 'deletePrefix':
      return { request_delete_range: prefixRange(op.prefix) };
    case 'get':
      return { request_range: { key: keyBytes(op.key) } };
  }
}

/** The first lease a branch refers to, to name it in a lease-not-found error. */
export function leaseOf(ops: readonly TxnOp[]): string | undefined {
  for (const op of ops) if (op.type === 'put' && op.lease !== undefined && op.lease !== NO_LEASE) return op.lease;
  return undefined;
}
