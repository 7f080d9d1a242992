/**
 * WAL conformance: fencing (a higher term opened elsewhere in the process) and recovery after a
 * crash (reopen at the next term: nothing acknowledged is lost, open transactions are rebuilt).
 */
import { expect, it } from 'vitest';
import type { AppendResult, WalAdaptor } from '../../node/wal/index.js';
import {
  deliverAll,
  deliverStartFrom,
  MessageType,
  pchannelInfo,
  StreamingCode,
  StreamingError,
  waitFor,
} from '../../shared/index.js';
import {
  beginTxn,
  channels,
  commitTxn,
  expectCode,
  expectStrictlyIncreasingTimeTicks,
  expectThrowsCode,
  insert,
  propertyOf,
  readUntil,
  suiteOpener,
  txnBody,
  txnOf,
  type WalSuiteFactory,
} from './wal-suite-fixture.js';

const OPEN = { signal: new AbortController().signal };

/** Registers the fencing and recovery cases. */
export function describeFencingAndRecovery(factory: WalSuiteFactory): void {
  it('fencing: a higher term opened through another opener fences the old WAL; its appends never land', async () => {
    const env = await factory();
    try {
      const { pchannel, v1 } = channels('fence');
      const old = (await suiteOpener(env.backendOpener).open(pchannelInfo(pchannel, 1n), OPEN)) as WalAdaptor;
      await old.append(insert(v1, { id: 'before' }));
      const oldScanner = old.read({ deliverPolicy: deliverAll() });
      const successor = await suiteOpener(env.backendOpener).open(pchannelInfo(pchannel, 2n), OPEN);

      await expectCode(old.append(insert(v1, { id: 'fenced' })), StreamingCode.CHANNEL_FENCED);
      expect(old.isAvailable()).toBe(false);
      expect(old.availability.aborted).toBe(true);
      expect((old.availability.reason as StreamingError).code).toBe(StreamingCode.CHANNEL_FENCED);
      await expectCode(old.append(insert(v1, { id: 'fenced-again' })), StreamingCode.CHANNEL_FENCED);
      expect((await oldScanner.closed())?.code).toBe(StreamingCode.CHANNEL_FENCED);
      expectThrowsCode(() => old.read({ deliverPolicy: deliverAll() }), StreamingCode.CHANNEL_FENCED);
      // A stale term cannot come back either.
      await expectCode(suiteOpener(env.backendOpener).open(pchannelInfo(pchannel, 1n), OPEN), StreamingCode.CHANNEL_FENCED);

      await successor.append(insert(v1, { id: 'after' }));
      const read = await readUntil(successor, { deliverPolicy: deliverAll() }, (m) => propertyOf(m, 'id') === 'after');
      expect(read.map((m) => propertyOf(m, 'id'))).toEqual(['before', 'after']);
      await old.close();
      await successor.close();
    } finally {
      await env.cleanup();
    }
  });

  it('recovery: after a crash nothing acknowledged is lost, uncommitted txns are dropped or can still commit, _lc holds', async () => {
    const env = await factory();
    try {
      const { pchannel, v1, v2, v3 } = channels('recovery');
      const wal1 = (await suiteOpener(env.backendOpener).open(pchannelInfo(pchannel, 1n), OPEN)) as WalAdaptor;
      const acked: AppendResult[] = [];
      for (let i = 0; i < 20; i++) acked.push(await wal1.append(insert(v1, { id: `a${i}` })));
      const committed = txnOf(await wal1.append(beginTxn(v1)));
      for (let i = 0; i < 2; i++) await wal1.append(txnBody(committed, v1));
      acked.push(await wal1.append(commitTxn(committed, v1, { id: 'committed' })));
      const lostBegin = await wal1.append(beginTxn(v2));
      const lost = txnOf(lostBegin);
      for (let i = 0; i < 2; i++) await wal1.append(txnBody(lost, v2, { id: 'lost-body' }));
      const late = txnOf(await wal1.append(beginTxn(v3, 60_000)));
      for (let i = 0; i < 3; i++) await wal1.append(txnBody(late, v3));
      for (let i = 20; i < 30; i++) acked.push(await wal1.append(insert(v1, { id: `a${i}` })));
      // A checkpoint taken once time ticks passed everything: it moved past the first records,
      // but not past the begin of the oldest open transaction (replay must see it).
      const lastTick = (acked[acked.length - 1] as AppendResult).timeTick;
      await waitFor(async () => {
        await wal1.persistCheckpoint();
        return (wal1.metrics().mvccTimeTick ?? 0n) >= lastTick && wal1.persistedCheckpoint?.messageId.gt((acked[0] as AppendResult).messageId);
      });
      await wal1.persistCheckpoint();
      expect(wal1.persistedCheckpoint?.messageId.lte(lostBegin.messageId)).toBe(true);

      const backendOpener = await env.crash();
      const wal2 = await suiteOpener(backendOpener).open(pchannelInfo(pchannel, 2n), OPEN);
      const maxAcked = acked.reduce((max, r) => (r.timeTick > max ? r.timeTick : max), 0n);
      expect(wal2.metrics().recoveryTimeTick).toBeGreaterThan(maxAcked);
      // Recovery re-registered the open transaction: its commit still goes through.
      const lateCommit = await wal2.append(commitTxn(late, v3, { id: 'late' }));
      const after = await wal2.append(insert(v1, { id: 'after' }));
      expect(after.lastConfirmedMessageId.lte(after.messageId)).toBe(true);

      const read = await readUntil(wal2, { deliverPolicy: deliverAll() }, (m) => propertyOf(m, 'id') === 'after');
      expectStrictlyIncreasingTimeTicks(read);
      const keys = read.map((m) => `${propertyOf(m, 'id') ?? '?'}${'bodies' in m ? `/${m.bodies.length}` : ''}`);
      const expected = [...acked.map((_, i) => (i < 20 ? `a${i}` : i === 20 ? 'committed/2' : `a${i - 1}`)), 'late/3', 'after'];
      expect(keys).toEqual(expected);
      expect(read.some((m) => m.messageType === MessageType.Txn && m.vchannel === v2)).toBe(false);

      // The safe-resume contract across the restart: from the commit's _lc, with tt ≥ its tick.
      const resumed = await readUntil(
        wal2,
        { deliverPolicy: deliverStartFrom(lateCommit.lastConfirmedMessageId), filters: [{ kind: 'timeTickGte', timeTick: lateCommit.timeTick }] },
        (m) => propertyOf(m, 'id') === 'after',
      );
      expect(resumed.map((m) => propertyOf(m, 'id'))).toEqual(['late', 'after']);
      await wal2.close();
      // The crashed incarnation can still be closed without hanging and writes nothing.
      await wal1.close().catch(() => undefined);
    } finally {
      await env.cleanup();
    }
  });
}
