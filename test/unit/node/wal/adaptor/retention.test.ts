/**
 * Retention: by age (`_tt` physical time), by approximate size, never at or past the persisted
 * checkpoint; a truncated position reads as UNRECOVERABLE naming the earliest id. Driven through
 * the WAL with a test clock that also drives the TSO.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryWalBackendOpener, type WalAdaptor } from '../../../../../node/wal/index.js';
import { WalRetention } from '../../../../../node/wal/recovery/index.js';
import {
  deliverStartFrom,
  LocalTsoAllocator,
  MessageId,
  pchannelInfo,
  StreamingCode,
  waitFor,
} from '../../../../../shared/index.js';
import { expectCode, insert, openWal, PCHANNEL, TestClock, V1 } from './fixtures.js';

const openers: MemoryWalBackendOpener[] = [];
afterEach(async () => {
  await Promise.allSettled(openers.splice(0).map((o) => o.close()));
});

interface Setup {
  wal: WalAdaptor;
  clock: TestClock;
  ids: MessageId[];
}

/** A WAL whose time ticks follow `clock`, with `old` records an hour old and `young` fresh ones. */
async function setup(limits: { retentionMaxAgeMs?: number; retentionMaxBytes?: number }, old: number, young: number): Promise<Setup> {
  const opener = new MemoryWalBackendOpener();
  openers.push(opener);
  const clock = new TestClock();
  const wal = await openWal(opener, { tso: new LocalTsoAllocator({ now: clock.now }), now: clock.now, config: limits });
  const ids: MessageId[] = [];
  for (let i = 0; i < old; i++) ids.push((await wal.append(insert(V1, {}, 'x'.repeat(100)))).messageId);
  clock.advance(60 * 60 * 1000);
  for (let i = 0; i < young; i++) ids.push((await wal.append(insert(V1, {}, 'x'.repeat(100)))).messageId);
  return { wal, clock, ids };
}

/** Saves a checkpoint past `id` (waits until a time tick confirmed it). */
async function checkpointPast(wal: WalAdaptor, id: MessageId): Promise<void> {
  await waitFor(async () => {
    await wal.persistCheckpoint();
    return wal.persistedCheckpoint?.messageId.gt(id);
  });
}

describe('WAL retention', () => {
  it('removes records older than maxAgeMs, up to the first young one', async () => {
    const { wal, ids } = await setup({ retentionMaxAgeMs: 30 * 60 * 1000 }, 20, 5);
    const lastOld = ids[19] as MessageId;
    await checkpointPast(wal, lastOld);
    const result = await wal.runRetention();
    // The first time tick (at open) and the 20 old inserts go; the first young record stays.
    expect(result.truncatedUpTo?.offset).toBeGreaterThanOrEqual(lastOld.offset);
    expect(result.truncatedUpTo?.offset).toBeLessThan((ids[20] as MessageId).offset);
    const scanner = wal.read({ deliverPolicy: deliverStartFrom(ids[0] as MessageId) });
    const error = await expectCode(scanner[Symbol.asyncIterator]().next(), StreamingCode.UNRECOVERABLE);
    expect(error.message).toContain('earliest available message id');
    await scanner.close();
    await wal.close();
  });

  it('never truncates at or past the persisted checkpoint, nor without one', async () => {
    const { wal, ids } = await setup({ retentionMaxAgeMs: 1 }, 30, 0);
    expect(wal.persistedCheckpoint).toBeUndefined();
    expect((await wal.runRetention()).truncatedUpTo).toBeUndefined();
    await checkpointPast(wal, ids[10] as MessageId);
    const checkpoint = wal.persistedCheckpoint?.messageId as MessageId;
    const result = await wal.runRetention();
    expect(result.ageCut?.offset).toBeGreaterThanOrEqual(checkpoint.offset - 1n);
    expect(result.truncatedUpTo?.offset).toBe(checkpoint.offset - 1n);
    await wal.close();
  });

  it('keeps about maxBytes of the newest records (count × average size)', async () => {
    const opener = new MemoryWalBackendOpener();
    openers.push(opener);
    const backend = await opener.open(pchannelInfo(PCHANNEL, 1n));
    const record = insert(V1, {}, 'x'.repeat(100)).withTimeTick(1n << 18n).withLastConfirmed(MessageId.of(1n));
    let last: MessageId | undefined;
    for (let i = 0; i < 40; i++) last = await backend.append(record);
    const retention = new WalRetention({ backend, maxAgeMs: 0, maxBytes: 2048, protectedFrom: () => MessageId.of((last as MessageId).offset + 1n) });
    const result = await retention.runOnce();
    const keep = BigInt(Math.floor(2048 / record.estimateSize()));
    expect(result.truncatedUpTo?.offset).toBe((last as MessageId).offset - keep);
    expect(result.ageCut).toBeUndefined();
    expect(backend.earliestMessageId()?.offset).toBe((last as MessageId).offset - keep + 1n);
    await retention.close();
  });

  it('does nothing when no limit is set, and validates its options', async () => {
    const { wal } = await setup({}, 3, 0);
    expect(await wal.runRetention()).toEqual({ truncatedUpTo: undefined, ageCut: undefined, sizeCut: undefined, scanned: 0 });
    await wal.close();
    const backend = { channel: wal.channel, read: () => { throw new Error('unused'); }, truncate: () => Promise.resolve(), earliestMessageId: () => undefined, latestMessageId: () => undefined };
    expect(() => new WalRetention({ backend, maxAgeMs: -1, maxBytes: 0, protectedFrom: () => undefined })).toThrow(RangeError);
    expect(() => new WalRetention({ backend, maxAgeMs: 0, maxBytes: 0, intervalMs: 0, protectedFrom: () => undefined })).toThrow(RangeError);
  });
});
