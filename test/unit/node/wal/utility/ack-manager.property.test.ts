/**
 * Model-based properties of the ack manager: a random interleaving of allocations, appends (which
 * assign WAL ids in append order), acks in any order (success after an append, error before one),
 * transactions (begin → bodies → commit/rollback) and time tick syncs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageId } from '../../../../../shared/message/index.js';
import { type Acker, AckManager, type AckTxnSession } from '../../../../../node/wal/utility/index.js';
import { CounterTso, insert, SyncCounterTso } from './fixtures.js';

type Op =
  | { readonly op: 'plain' | 'begin' | 'sync' }
  | { readonly op: 'body' | 'append' | 'ack' | 'fail'; readonly pick: number }
  | { readonly op: 'end'; readonly pick: number; readonly commit: boolean };

const simple = (op: 'plain' | 'begin' | 'sync'): fc.Arbitrary<Op> => fc.constant<Op>({ op });
const picking = (op: 'body' | 'append' | 'ack' | 'fail'): fc.Arbitrary<Op> => fc.record({ op: fc.constant(op), pick: fc.nat(1000) });

// Weighted so that few appends are in flight at a time (otherwise the oldest one holds every
// watermark back and nothing interesting happens) and transactions actually open and commit.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: simple('plain'), weight: 2 },
  { arbitrary: simple('begin'), weight: 2 },
  { arbitrary: picking('body'), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('end' as const), pick: fc.nat(1000), commit: fc.boolean() }), weight: 2 },
  { arbitrary: picking('append'), weight: 8 },
  { arbitrary: picking('ack'), weight: 8 },
  { arbitrary: picking('fail'), weight: 1 },
  { arbitrary: simple('sync'), weight: 2 },
);

interface Txn {
  state: 'beginning' | 'open' | 'ending' | 'finished';
  inFlightBodies: number;
  committed: boolean;
  readonly session: AckTxnSession & { done: boolean };
  readonly ids: bigint[];
  commitTt?: bigint;
}

interface Pending {
  readonly acker: Acker;
  readonly kind: 'plain' | 'begin' | 'body' | 'commit' | 'rollback';
  readonly txn?: Txn;
  id?: bigint;
}

/** A position a consumer may resume from: a time tick and the `_lc` stamped with it. */
interface Position {
  readonly tt: bigint;
  readonly lc: bigint;
}

interface Written {
  readonly id: bigint;
  readonly tt: bigint;
}

function newTxn(): Txn {
  const session = { done: false, isExpiredOrDone(): boolean { return this.done; } };
  return { state: 'beginning', inFlightBodies: 0, committed: false, session, ids: [] };
}

async function run(ops: readonly Op[], tso: CounterTso = new CounterTso(100n)): Promise<void> {
  const manager = new AckManager({ tso, lastConfirmedTimeTick: 100n, lastConfirmedMessageId: MessageId.of(0) });
  const pending: Pending[] = [];
  const txns: Txn[] = [];
  const written: Written[] = [];
  const positions: Position[] = [];
  let nextId = 1n;
  let lastTt = manager.lastConfirmedTimeTick;
  let lastLc = 0n;

  const allocate = async (kind: Pending['kind'], txn?: Txn): Promise<void> => {
    const acker = await manager.allocate();
    pending.push(txn === undefined ? { acker, kind } : { acker, kind, txn });
  };
  const settle = (p: Pending): void => {
    const { txn } = p;
    if (p.id !== undefined) {
      p.acker.ack({ kind: 'success', message: insert(p.id, p.acker.timestamp), ...(txn ? { txnSession: txn.session } : {}) });
      written.push({ id: p.id, tt: p.acker.timestamp });
      positions.push({ tt: p.acker.timestamp, lc: p.acker.lastConfirmedMessageId.offset });
      txn?.ids.push(p.id);
    } else {
      p.acker.ack({ kind: 'error', error: new Error('append failed') });
    }
    if (txn === undefined) return;
    if (p.kind === 'begin') txn.state = p.id !== undefined ? 'open' : 'finished';
    if (p.kind === 'body') txn.inFlightBodies--;
    if (p.kind === 'commit' || p.kind === 'rollback') {
      txn.state = 'finished';
      txn.committed = p.kind === 'commit' && p.id !== undefined;
      if (txn.committed) txn.commitTt = p.acker.timestamp;
      txn.session.done = true;
    }
  };

  const step = async (o: Op): Promise<void> => {
    const open = txns.filter((t) => t.state === 'open');
    switch (o.op) {
      case 'plain':
        return allocate('plain');
      case 'begin': {
        const txn = newTxn();
        txns.push(txn);
        return allocate('begin', txn);
      }
      case 'body': {
        const txn = open[o.pick % Math.max(open.length, 1)];
        if (txn === undefined) return;
        txn.inFlightBodies++;
        return allocate('body', txn);
      }
      case 'end': {
        // A commit waits for the transaction's bodies in flight, as the txn session does.
        const ready = open.filter((t) => t.inFlightBodies === 0);
        const txn = ready[o.pick % Math.max(ready.length, 1)];
        if (txn === undefined) return;
        txn.state = 'ending';
        return allocate(o.commit ? 'commit' : 'rollback', txn);
      }
      case 'append': {
        const candidates = pending.filter((p) => p.id === undefined);
        const p = candidates[o.pick % Math.max(candidates.length, 1)];
        if (p !== undefined) p.id = nextId++;
        return;
      }
      case 'ack':
      case 'fail': {
        // 'ack' finishes an append that reached the WAL; 'fail' one that never did.
        const candidates = pending.filter((p) => (p.id !== undefined) === (o.op === 'ack'));
        const p = candidates[o.pick % Math.max(candidates.length, 1)];
        if (p === undefined) return;
        pending.splice(pending.indexOf(p), 1);
        return settle(p);
      }
      case 'sync': {
        const details = await manager.syncAndGetAcknowledged();
        const tt = details.lastAllAcknowledgedTimestamp;
        const lc = details.earliestLastConfirmedMessageId;
        if (tt !== undefined && lc !== undefined) positions.push({ tt, lc: lc.offset });
      }
    }
  };

  // Plain comparisons in the hot loops: `expect` per comparison would dominate the run time.
  const checkWatermarks = (): void => {
    const tt = manager.lastConfirmedTimeTick;
    const lc = manager.lastConfirmedMessageId.offset;
    const oldestPending = pending.reduce((min, p) => (p.acker.timestamp < min ? p.acker.timestamp : min), manager.lastAllocatedTimeTick + 1n);
    if (tt < lastTt || tt > oldestPending - 1n || lc < lastLc) {
      expect.fail(`watermarks: tt ${lastTt} -> ${tt} (oldest pending ${oldestPending}), lc ${lastLc} -> ${lc}`);
    }
    lastTt = tt;
    lastLc = lc;
  };

  for (const o of ops) {
    await step(o);
    checkWatermarks();
  }
  // Drain: every append in flight finishes, in allocation order.
  for (const p of pending.splice(0)) {
    p.id ??= nextId++;
    settle(p);
    checkWatermarks();
  }
  await manager.syncAndGetAcknowledged();
  expect(manager.unacknowledgedCount).toBe(0);

  // The safe-resume contract, for every stamped position (messages and time ticks):
  // reading from lc delivers every message with a greater time tick, and every message of every
  // transaction that commits after the position.
  const violations: string[] = [];
  for (const pos of positions) {
    for (const w of written) {
      if (w.tt > pos.tt && w.id < pos.lc) violations.push(`id ${w.id} (tt ${w.tt}) is before lc ${pos.lc} of tt ${pos.tt}`);
    }
    for (const txn of txns) {
      if (!txn.committed || (txn.commitTt as bigint) <= pos.tt) continue;
      for (const id of txn.ids) if (id < pos.lc) violations.push(`txn message ${id} is before lc ${pos.lc} of tt ${pos.tt}`);
    }
  }
  expect(violations).toEqual([]);
}

describe('AckManager properties', () => {
  it('keeps the watermarks monotonic and the safe-resume contract under any interleaving', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 150, size: 'max' }), (ops) => run(ops)), { numRuns: 300 });
  });

  it('keeps them when ticks are allocated synchronously (a TSO with tryAllocate)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 150, size: 'max' }), (ops) => run(ops, new SyncCounterTso(100n))),
      { numRuns: 300 },
    );
  });

  it('eventually confirms every message once all appends and transactions finished', async () => {
    const manager = new AckManager({ tso: new CounterTso(), lastConfirmedTimeTick: 0n, lastConfirmedMessageId: MessageId.of(0) });
    const ackers = await Promise.all(Array.from({ length: 20 }, () => manager.allocate()));
    [...ackers].reverse().forEach((a, i) => a.ack({ kind: 'success', message: insert(20 - i, a.timestamp) }));
    await manager.syncAndGetAcknowledged();
    expect(manager.lastConfirmedMessageId.offset).toBe(20n);
  });
});
