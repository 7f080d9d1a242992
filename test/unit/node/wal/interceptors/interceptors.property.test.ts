/**
 * The composed append path under random concurrency: plain and exclusive messages on two
 * vchannels and the pchannel, transactions (begin → bodies → commit or rollback), backend writes
 * finishing in random order, and time tick syncs, all interleaved. Whatever lands in the WAL must
 * keep the safe-resume contract (reference/milvus-node.md §4.6) and time tick order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ImmutableMessage, MessageType, type MutableMessage, type TxnContext } from '../../../../../shared/message/index.js';
import { beginTxn, commitTxn, ddl, insert, openTestWal, rollbackTxn, type TestWal, turn, txnBody, V1, V2 } from './fixtures.js';

type Cmd =
  | { readonly op: 'insert' | 'ddl'; readonly v: 0 | 1 | 2; readonly hold: boolean }
  | { readonly op: 'txn'; readonly bodies: number; readonly commit: boolean; readonly hold: boolean }
  | { readonly op: 'release'; readonly pick: number }
  | { readonly op: 'sync' | 'turn' };

const vchannelOf = (v: 0 | 1 | 2): string | undefined => [V1, V2, undefined][v];
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('insert' as const), v: fc.constantFrom(0 as const, 1 as const, 2 as const), hold: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('ddl' as const), v: fc.constantFrom(0 as const, 1 as const, 2 as const), hold: fc.boolean() }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('txn' as const), bodies: fc.nat(3), commit: fc.boolean(), hold: fc.boolean() }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat(100) }), weight: 5 },
  { arbitrary: fc.constantFrom<Cmd>({ op: 'sync' }, { op: 'turn' }), weight: 3 },
);

const held = (m: MutableMessage, hold: boolean): MutableMessage => (hold ? m.withProperties({ hold: '1' }) : m);

/** Runs one transaction; failures (e.g. failed by an exclusive message) just end it. */
async function runTxn(w: TestWal, cmd: Extract<Cmd, { op: 'txn' }>): Promise<void> {
  const { result } = await w.append(held(beginTxn(V1), cmd.hold));
  const txn = result.txnContext as TxnContext;
  const bodies = await Promise.allSettled(Array.from({ length: cmd.bodies }, () => w.append(held(txnBody(txn), cmd.hold))));
  const failed = bodies.find((b) => b.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  await w.append(held(cmd.commit ? commitTxn(txn) : rollbackTxn(txn), cmd.hold));
}

function checkContract(messages: readonly ImmutableMessage[]): void {
  const byTxn = new Map<bigint, ImmutableMessage[]>();
  for (const m of messages) {
    const txn = m.txnContext;
    if (txn === undefined) continue;
    byTxn.set(txn.txnId, [...(byTxn.get(txn.txnId) ?? []), m]);
  }
  const committed = [...byTxn.values()].filter((ms) => ms.some((m) => m.messageType === MessageType.CommitTxn));
  for (const m of messages) {
    const lc = m.lastConfirmedMessageId;
    for (const later of messages) {
      // Autocommit messages (and TimeTicks) with a larger tick are read again from _lc.
      if (later.txnContext === undefined && later.timeTick > m.timeTick) expect(later.messageId.gte(lc)).toBe(true);
    }
    for (const txn of committed) {
      const commit = txn.find((x) => x.messageType === MessageType.CommitTxn) as ImmutableMessage;
      // A transaction committing after m is delivered whole from m's _lc.
      if (commit.timeTick > m.timeTick) for (const part of txn) expect(part.messageId.gte(lc)).toBe(true);
    }
  }
  const data = messages.filter((m) => m.messageType !== MessageType.TimeTick);
  const ticks = new Set(data.map((m) => m.timeTick));
  expect(ticks.size).toBe(data.length); // every data message has its own tick
}

describe('interceptors (property)', () => {
  it('keep the last confirmed contract and unique ticks under random interleavings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { minLength: 5, maxLength: 40 }), async (cmds) => {
        const w = await openTestWal();
        w.gate.hold((m) => m.property('hold') === '1');
        const work: Promise<unknown>[] = [];
        // Failures (refused transactions) are expected; mark them handled right away.
        const track = (p: Promise<unknown>): void => {
          p.catch(() => undefined);
          work.push(p);
        };
        try {
          for (const cmd of cmds) {
            if (cmd.op === 'insert') track(w.append(held(insert(vchannelOf(cmd.v)), cmd.hold)));
            else if (cmd.op === 'ddl') track(w.append(held(ddl(vchannelOf(cmd.v)), cmd.hold)));
            else if (cmd.op === 'txn') track(runTxn(w, cmd));
            else if (cmd.op === 'release' && w.gate.parkedCount > 0) w.gate.releaseAt(cmd.pick % w.gate.parkedCount);
            else if (cmd.op === 'sync') track(w.operator.sync());
            await turn();
          }
          w.gate.stopHolding();
          w.gate.releaseAll();
          await Promise.allSettled(work);
          await w.operator.sync();
          checkContract(await w.readAll());
          expect(w.acks.unacknowledgedCount).toBe(0);
        } finally {
          await w.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
