import { afterEach, describe, expect, it } from 'vitest';
import {
  deliverAll,
  deliverLatest,
  deliverStartAfter,
  deliverStartFrom,
  type ImmutableMessage,
  MessageType,
} from '../../../../../shared/message/index.js';
import { createWalScanner, type WalScannerAdaptor } from '../../../../../node/wal/scanner/index.js';
import { isImmutableTxnMessage, type ScannedMessage } from '../../../../../node/wal/utility/index.js';
import type { WalReadOptions } from '../../../../../node/wal/wal.js';
import { insertMessage } from './fake-wal-writer.js';
import { CollectingReader, expectedFor, expectTimeTickOrder, type FakeWalEnv, openFakeWal, vchannelsOf } from './scanner-fixtures.js';

let env: FakeWalEnv | undefined;
const scanners: WalScannerAdaptor[] = [];

async function setup(): Promise<FakeWalEnv> {
  env = await openFakeWal();
  return env;
}

function read(e: FakeWalEnv, options: Partial<WalReadOptions> = {}): CollectingReader {
  const scanner = createWalScanner(e.source(), { deliverPolicy: deliverAll(), ...options });
  scanners.push(scanner);
  return new CollectingReader(scanner);
}

/** Ends with a persisted tick so every reader can be awaited up to it. */
async function finalTick(e: FakeWalEnv): Promise<bigint> {
  const tick = await e.writer.tick({ persisted: true });
  return (tick ?? e.writer.lastTick).timeTick;
}

afterEach(async () => {
  await Promise.all(scanners.splice(0).map((s) => s.close()));
  await env?.close();
  env = undefined;
});

describe('WAL scanner: ordering, vchannels, transactions', () => {
  it('gives each reader its vchannel plus vchannel-less messages, in time tick order, each exactly once', async () => {
    const e = await setup();
    const [v0, v1] = vchannelsOf(e.pchannel, 2) as [string, string];
    const readers = [read(e, { vchannel: v0 }), read(e, { vchannel: v1 }), read(e)];
    const w = e.writer;
    for (let i = 0; i < 5; i++) {
      await w.insert(v0, `a${i}`);
      await w.insert(v1, `b${i}`);
      if (i % 2 === 0) await w.insert(undefined, `all${i}`);
      // Concurrent appends: the later tick lands first, so ids and ticks disagree.
      const first = w.stamp(insertMessage(v0, `race-a${i}`));
      const second = w.stamp(insertMessage(v1, `race-b${i}`));
      const tickedMeanwhile = w.tick();
      await w.write(second);
      await w.write(first);
      await tickedMeanwhile;
      await w.tick();
    }
    const last = await finalTick(e);
    for (const [reader, vchannel] of [
      [readers[0], v0],
      [readers[1], v1],
      [readers[2], undefined],
    ] as const) {
      await reader?.untilTick(last);
      expectTimeTickOrder(reader?.items ?? []);
      expect(reader?.data()).toEqual(expectedFor(w.records, { vchannel }));
    }
    expect(readers[2]?.data()).toHaveLength(5 * 4 + 3);
  });

  it('delivers a committed txn as one message at its commit tick and drops rolled back and expired ones', async () => {
    const e = await setup();
    const [v0, v1] = vchannelsOf(e.pchannel, 2) as [string, string];
    const reader = read(e, { vchannel: v0 });
    const w = e.writer;
    const committed = await w.begin(v0);
    await w.insert(v0, 'before-body');
    await w.insert(v0, 'body-1', committed);
    await w.tick();
    await w.insert(v1, 'other-vchannel');
    await w.insert(v0, 'body-2', committed);
    const rolledBack = await w.begin(v0);
    await w.insert(v0, 'rolled-body', rolledBack);
    await w.rollback(rolledBack, v0);
    const commitMessage = await w.commit(committed, v0);
    await w.insert(v0, 'after-commit');
    const expiring = await w.begin(v0, 5);
    await w.insert(v0, 'expiring-body', expiring);
    await w.tick();
    w.tso.advanceMs(10);
    const last = await finalTick(e);

    await reader.untilTick(last);
    expectTimeTickOrder(reader.items);
    expect(reader.data()).toEqual(expectedFor(w.records, { vchannel: v0 }));
    const txns = reader.items.filter(isImmutableTxnMessage);
    expect(txns).toHaveLength(1);
    const txn = txns[0];
    expect(txn?.timeTick).toBe(commitMessage.timeTick);
    expect(txn?.bodies.map((b) => b.payload.toString())).toEqual(['body-1', 'body-2']);
    expect(txn?.bodies.every((b) => b.timeTick === commitMessage.timeTick)).toBe(true);
    expect(scanners[0]?.stats.openTxns).toBe(0);
  });
});

describe('WAL scanner: deliver policies and filters', () => {
  async function writeSome(e: FakeWalEnv, count: number): Promise<ImmutableMessage[]> {
    const [v0] = vchannelsOf(e.pchannel, 1) as [string];
    const out: ImmutableMessage[] = [];
    for (let i = 0; i < count; i++) {
      out.push(await e.writer.insert(v0, `m${i}`));
      if (i % 3 === 2) await e.writer.tick();
    }
    return out;
  }

  it('startFrom is inclusive, startAfter exclusive', async () => {
    const e = await setup();
    const written = await writeSome(e, 10);
    const pivot = written[4] as ImmutableMessage;
    const from = read(e, { deliverPolicy: deliverStartFrom(pivot.messageId) });
    const after = read(e, { deliverPolicy: deliverStartAfter(pivot.messageId) });
    const last = await finalTick(e);
    await from.untilTick(last);
    await after.untilTick(last);
    expect(from.data()).toEqual(written.slice(4).map((m) => `msg:${m.messageId}`));
    expect(after.data()).toEqual(written.slice(5).map((m) => `msg:${m.messageId}`));
  });

  it('latest delivers only what is appended after the scanner opened', async () => {
    const e = await setup();
    await writeSome(e, 5);
    const before = e.writer.records.length;
    const reader = read(e, { deliverPolicy: deliverLatest() });
    expect(e.tickRequests()).toBe(1);
    const fresh = await writeSome(e, 4);
    const last = await finalTick(e);
    await reader.untilTick(last);
    expect(e.writer.records.length).toBe(before + 4);
    expect(reader.data()).toEqual(fresh.map((m) => `msg:${m.messageId}`));
  });

  it('resuming from a message’s last confirmed id with a time tick filter loses and repeats nothing', async () => {
    const e = await setup();
    const [v0] = vchannelsOf(e.pchannel, 1) as [string];
    const w = e.writer;
    for (let i = 0; i < 12; i++) {
      const a = w.stamp(insertMessage(v0, `a${i}`));
      const b = w.stamp(insertMessage(v0, `b${i}`));
      await w.write(b);
      await w.write(a);
      if (i % 4 === 3) await w.tick();
    }
    const last = await finalTick(e);
    const byTick = [...w.records].sort((x, y) => (x.timeTick < y.timeTick ? -1 : 1));
    for (const pivot of [byTick[3], byTick[10], byTick[17]] as ImmutableMessage[]) {
      const gt = read(e, { deliverPolicy: deliverStartFrom(pivot.lastConfirmedMessageId), filters: [{ kind: 'timeTickGt', timeTick: pivot.timeTick }] });
      const gte = read(e, { deliverPolicy: deliverStartFrom(pivot.lastConfirmedMessageId), filters: [{ kind: 'timeTickGte', timeTick: pivot.timeTick }] });
      await gt.untilTick(last);
      await gte.untilTick(last);
      const expected = (keep: (m: ImmutableMessage) => boolean): string[] => byTick.filter(keep).map((m) => `msg:${m.messageId}`);
      expect(gt.data()).toEqual(expected((m) => m.timeTick > pivot.timeTick));
      expect(gte.data()).toEqual(expected((m) => m.timeTick >= pivot.timeTick));
    }
  });

  it('a time tick is delivered when idle, so consumers see time advance', async () => {
    const e = await setup();
    const reader = read(e);
    const tick = await e.writer.tick({ persisted: false });
    expect(tick?.notPersisted).toBe(true);
    await reader.untilTick(tick?.timeTick ?? 0n);
    const ticks = reader.items.filter((m: ScannedMessage) => m.messageType === MessageType.TimeTick);
    expect(ticks.at(-1)?.timeTick).toBe(tick?.timeTick);
  });
});
