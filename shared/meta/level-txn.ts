/**
 * Evaluates a transaction of the embedded store against its committed state, with etcd's
 * rules: compares see a missing key as version/createRevision/modRevision/lease 0 and fail any
 * value compare; ops run in order on an overlay, so a `get` after a `put` in the same branch sees
 * the put; puts with a lease that is not alive fail the whole txn; all writes of the txn share
 * one revision (the caller's `revision`), and a txn that changed nothing does not use it.
 */
import { hasPrefix } from './key-range.js';
import { leaseNotFound } from './meta-errors.js';
import { tombstone, type HistoryEvent } from './level-codec.js';
import { NO_LEASE, type Compare, type KeyValue, type TxnOp, type TxnRequest } from './meta-kv.js';

/** Read access to the committed state, for the duration of one txn (under the write lock). */
export interface TxnState {
  read(key: string): Promise<KeyValue | undefined>;
  /** Every committed key under `prefix`, ascending. */
  readPrefix(prefix: string): Promise<KeyValue[]>;
  leaseAlive(id: string): boolean;
}

/** The outcome of a planned txn: nothing is written yet. */
export interface TxnPlan {
  readonly succeeded: boolean;
  readonly gets: (KeyValue | undefined)[];
  /** Changes, in op order; empty when the txn writes nothing. */
  readonly events: HistoryEvent[];
  readonly deleted: number;
}

function asBytes(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function holds(c: Compare, kv: KeyValue | undefined): boolean {
  let cmp: number;
  switch (c.target) {
    case 'value':
      // etcd: a value compare on a missing key is false whatever the operator.
      if (kv === undefined) return false;
      cmp = Buffer.compare(kv.value, asBytes(c.value));
      break;
    case 'lease': {
      const actual = BigInt(kv?.lease ?? NO_LEASE);
      const expected = BigInt(c.value);
      cmp = actual === expected ? 0 : actual < expected ? -1 : 1;
      break;
    }
    default:
      cmp = Math.sign((kv?.[c.target] ?? 0) - c.value);
  }
  switch (c.op) {
    case '==':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '<':
      return cmp < 0;
    case '>':
      return cmp > 0;
  }
}

/** Plans `request` at `revision` (= current + 1). Throws UNRECOVERABLE for a dead lease. */
export async function planTxn(state: TxnState, request: TxnRequest, revision: number): Promise<TxnPlan> {
  let succeeded = true;
  for (const c of request.compares) {
    if (!holds(c, await state.read(c.key))) {
      succeeded = false;
      break;
    }
  }
  const ops = succeeded ? request.success : (request.failure ?? []);
  for (const op of ops) {
    if (op.type === 'put' && op.lease !== undefined && op.lease !== NO_LEASE && !state.leaseAlive(op.lease)) {
      throw leaseNotFound(op.lease);
    }
  }
  const overlay = new Map<string, KeyValue | null>();
  const current = async (key: string): Promise<KeyValue | undefined> => {
    const o = overlay.get(key);
    return o === null ? undefined : (o ?? (await state.read(key)));
  };
  const events: HistoryEvent[] = [];
  const gets: (KeyValue | undefined)[] = [];
  let deleted = 0;
  const remove = (prev: KeyValue): void => {
    overlay.set(prev.key, null);
    events.push({ type: 'delete', kv: tombstone(prev.key, revision), prev });
    deleted += 1;
  };
  for (const op of ops) await applyOp(op);
  return { succeeded, gets, events, deleted };

  async function applyOp(op: TxnOp): Promise<void> {
    switch (op.type) {
      case 'get':
        gets.push(await current(op.key));
        return;
      case 'put': {
        const prev = await current(op.key);
        const kv: KeyValue = {
          key: op.key,
          value: Buffer.from(asBytes(op.value)),
          createRevision: prev?.createRevision ?? revision,
          modRevision: revision,
          version: (prev?.version ?? 0) + 1,
          lease: op.lease ?? NO_LEASE,
        };
        overlay.set(op.key, kv);
        events.push({ type: 'put', kv, prev });
        return;
      }
      case 'delete': {
        const prev = await current(op.key);
        if (prev !== undefined) remove(prev);
        return;
      }
      case 'deletePrefix': {
        // Validation keeps puts out of deleted ranges, so only committed keys can match here.
        const prefix = Buffer.from(op.prefix, 'utf8');
        for (const kv of await state.readPrefix(op.prefix)) {
          if (overlay.get(kv.key) !== null && hasPrefix(Buffer.from(kv.key, 'utf8'), prefix)) remove(kv);
        }
        return;
      }
    }
  }
}
