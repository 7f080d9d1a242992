/**
 * Argument checks both stores apply before touching storage, so bad input gets the same
 * INVAILD_ARGUMENT error from the embedded store as from etcd (which checks the same rules
 * server-side: non-empty keys, at most 128 ops per txn list, no key written twice in a branch).
 */
import { StreamingError } from '../errors/index.js';
import { hasPrefix } from './key-range.js';
import type { Compare, RangeOptions, TxnOp, TxnRequest } from './meta-kv.js';

/** etcd's default `--max-txn-ops`. */
export const MAX_TXN_OPS = 128;

/** A key must be a non-empty string. */
export function validateKey(key: string, field = 'key'): void {
  if (typeof key !== 'string' || key.length === 0) throw StreamingError.invalidArgument(field, 'must be a non-empty string');
}

/** Revisions are integers >= 1. */
export function validateRevision(revision: number, field: string): void {
  if (!Number.isSafeInteger(revision) || revision < 1) throw StreamingError.invalidArgument(field, `must be an integer >= 1, got ${revision}`);
}

/** Lease ids are decimal strings (`'0'` = no lease). */
export function validateLeaseId(id: string, field = 'lease'): void {
  if (typeof id !== 'string' || !/^\d+$/.test(id)) throw StreamingError.invalidArgument(field, `must be a decimal lease id, got ${String(id)}`);
}

/** A TTL must be a positive number of ms. */
export function validateTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw StreamingError.invalidArgument('ttlMs', `must be > 0, got ${ttlMs}`);
}

/** `limit` and `revision` must be integers >= 1. */
export function validateRangeOptions(options: RangeOptions): void {
  const { limit, revision } = options;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw StreamingError.invalidArgument('limit', `must be an integer >= 1, got ${limit}`);
  }
  if (revision !== undefined) validateRevision(revision, 'revision');
}

function validateCompare(c: Compare): void {
  validateKey(c.key, 'compare.key');
  if (c.target === 'lease') validateLeaseId(c.value, 'compare.value');
  else if (c.target !== 'value' && (!Number.isSafeInteger(c.value) || c.value < 0)) {
    throw StreamingError.invalidArgument('compare.value', `must be an integer >= 0 for ${c.target}`);
  }
}

/** Rejects a branch that writes one key twice (put+put, or put inside a deleted range). */
function validateBranch(ops: readonly TxnOp[], name: string): void {
  if (ops.length > MAX_TXN_OPS) throw StreamingError.invalidArgument(name, `too many operations (${ops.length} > ${MAX_TXN_OPS})`);
  const puts = new Set<string>();
  const deletes: Buffer[] = [];
  const deletedKeys = new Set<string>();
  for (const op of ops) {
    if (op.type === 'deletePrefix') {
      if (typeof op.prefix !== 'string') throw StreamingError.invalidArgument(`${name}.prefix`, 'must be a string');
      deletes.push(Buffer.from(op.prefix, 'utf8'));
      continue;
    }
    validateKey(op.key, `${name}.key`);
    if (op.type === 'put') {
      if (op.lease !== undefined) validateLeaseId(op.lease, `${name}.lease`);
      if (puts.has(op.key)) throw StreamingError.invalidArgument(name, `duplicate key ${op.key} in txn`);
      puts.add(op.key);
    } else if (op.type === 'delete') {
      deletedKeys.add(op.key);
    }
  }
  for (const key of puts) {
    const bytes = Buffer.from(key, 'utf8');
    if (deletedKeys.has(key) || deletes.some((p) => hasPrefix(bytes, p))) {
      throw StreamingError.invalidArgument(name, `duplicate key ${key} in txn (put and delete)`);
    }
  }
}

/** Checks a whole transaction request; throws INVAILD_ARGUMENT on the first problem. */
export function validateTxn(request: TxnRequest): void {
  if (request.compares.length > MAX_TXN_OPS) {
    throw StreamingError.invalidArgument('compares', `too many compares (${request.compares.length} > ${MAX_TXN_OPS})`);
  }
  request.compares.forEach(validateCompare);
  validateBranch(request.success, 'success');
  validateBranch(request.failure ?? [], 'failure');
}
