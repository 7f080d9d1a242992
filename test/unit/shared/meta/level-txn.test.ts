import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import { NO_LEASE, type KeyValue, type TxnRequest } from '../../../../shared/meta/index.js';
import { planTxn, type TxnState } from '../../../../shared/meta/level-txn.js';

function kv(key: string, value: string, rev: number, extra: Partial<KeyValue> = {}): KeyValue {
  return { key, value: Buffer.from(value), createRevision: rev, modRevision: rev, version: 1, lease: NO_LEASE, ...extra };
}

function stateOf(kvs: KeyValue[], liveLeases: string[] = []): TxnState {
  const map = new Map(kvs.map((x) => [x.key, x]));
  return {
    read: async (key) => map.get(key),
    readPrefix: async (prefix) => [...map.values()].filter((x) => x.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1)),
    leaseAlive: (id) => liveLeases.includes(id),
  };
}

describe('planTxn', () => {
  const base = [kv('a', 'A', 3, { version: 2, createRevision: 2, lease: '7' }), kv('p/1', '1', 4), kv('p/2', '2', 5)];

  it('compares a missing key as zero, and a value compare on it as false', async () => {
    const state = stateOf(base);
    const run = (req: TxnRequest) => planTxn(state, req, 10);
    expect((await run({ compares: [{ key: 'nope', target: 'version', op: '==', value: 0 }], success: [] })).succeeded).toBe(true);
    expect((await run({ compares: [{ key: 'nope', target: 'lease', op: '==', value: '0' }], success: [] })).succeeded).toBe(true);
    expect((await run({ compares: [{ key: 'nope', target: 'value', op: '!=', value: 'x' }], success: [] })).succeeded).toBe(false);
    expect((await run({ compares: [{ key: 'a', target: 'value', op: '>', value: 'A' }], success: [] })).succeeded).toBe(false);
    expect((await run({ compares: [{ key: 'a', target: 'value', op: '<', value: 'B' }], success: [] })).succeeded).toBe(true);
    expect((await run({ compares: [{ key: 'a', target: 'lease', op: '>', value: '6' }], success: [] })).succeeded).toBe(true);
    expect((await run({ compares: [{ key: 'a', target: 'createRevision', op: '!=', value: 2 }], success: [] })).succeeded).toBe(false);
  });

  it('applies ops in order on an overlay, all at the given revision', async () => {
    const plan = await planTxn(
      stateOf(base),
      {
        compares: [],
        success: [
          { type: 'put', key: 'a', value: 'A2' },
          { type: 'get', key: 'a' },
          { type: 'deletePrefix', prefix: 'p/' },
          { type: 'get', key: 'p/1' },
          { type: 'delete', key: 'p/2' },
        ],
      },
      10,
    );
    expect(plan.gets[0]).toMatchObject({ value: Buffer.from('A2'), createRevision: 2, modRevision: 10, version: 3, lease: NO_LEASE });
    expect(plan.gets[1]).toBeUndefined();
    expect(plan.deleted).toBe(2);
    expect(plan.events.map((e) => `${e.type} ${e.kv.key} @${e.kv.modRevision} prev=${e.prev?.value.toString()}`)).toEqual([
      'put a @10 prev=A',
      'delete p/1 @10 prev=1',
      'delete p/2 @10 prev=2',
    ]);
  });

  it('writes nothing when nothing changes', async () => {
    const plan = await planTxn(stateOf(base), { compares: [], success: [{ type: 'delete', key: 'nope' }, { type: 'get', key: 'a' }] }, 10);
    expect(plan.events).toEqual([]);
    expect(plan.deleted).toBe(0);
  });

  it('fails the txn with UNRECOVERABLE when a put of the running branch uses a dead lease', async () => {
    const state = stateOf(base, ['9']);
    await expect(planTxn(state, { compares: [], success: [{ type: 'put', key: 'x', value: '1', lease: '8' }] }, 10)).rejects.toMatchObject({
      code: StreamingCode.UNRECOVERABLE,
    });
    const ok = await planTxn(state, { compares: [], success: [{ type: 'put', key: 'x', value: '1', lease: '9' }], failure: [{ type: 'put', key: 'x', value: '1', lease: '8' }] }, 10);
    expect(ok.events[0]?.kv.lease).toBe('9');
  });
});
