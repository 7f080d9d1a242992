/**
 * The recovery replay: from the checkpoint to the barrier, the transactions a reader would still
 * wait for (begun, neither committed, rolled back nor expired) are what the write side gets back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryWalBackendOpener, type WalBackend } from '../../../../../node/wal/backend/index.js';
import { replayRecovery } from '../../../../../node/wal/recovery/index.js';
import {
  composeTs,
  type ImmutableMessage,
  MessageId,
  type MutableMessage,
  newBeginTxnMessage,
  newCommitTxnMessage,
  newRollbackTxnMessage,
  newTimeTickMessage,
  pchannelInfo,
  StreamingCode,
  txnContext,
} from '../../../../../shared/index.js';
import { expectCode, insert, PCHANNEL, V1 } from './fixtures.js';

const BASE_MS = 1_700_000_000_000;
const tt = (ms: number): bigint => composeTs(BASE_MS + ms, 0);
const LC = MessageId.of(1n);

const openers: MemoryWalBackendOpener[] = [];
afterEach(async () => {
  await Promise.allSettled(openers.splice(0).map((o) => o.close()));
});

async function backend(): Promise<WalBackend> {
  const opener = new MemoryWalBackendOpener();
  openers.push(opener);
  return opener.open(pchannelInfo(PCHANNEL, 1n));
}

function stamp(message: MutableMessage, ms: number): MutableMessage {
  return message.withTimeTick(tt(ms)).withLastConfirmed(LC);
}

const begin = (txnId: bigint, keepaliveMs: bigint, ms: number): MutableMessage =>
  stamp(newBeginTxnMessage({ vchannel: V1 }).withTxnContext(txnContext(txnId, keepaliveMs)), ms);
const body = (txnId: bigint, keepaliveMs: bigint, ms: number): MutableMessage => stamp(insert(V1).withTxnContext(txnContext(txnId, keepaliveMs)), ms);
const commit = (txnId: bigint, keepaliveMs: bigint, ms: number): MutableMessage =>
  stamp(newCommitTxnMessage({ vchannel: V1, txn: txnContext(txnId, keepaliveMs) }), ms);
const rollback = (txnId: bigint, keepaliveMs: bigint, ms: number): MutableMessage =>
  stamp(newRollbackTxnMessage({ vchannel: V1, txn: txnContext(txnId, keepaliveMs) }), ms);
const tick = (ms: number): MutableMessage => newTimeTickMessage({ timeTick: tt(ms), lastConfirmed: LC });

/** Appends the messages; returns them as stored. */
async function write(wal: WalBackend, messages: MutableMessage[]): Promise<ImmutableMessage[]> {
  const out: ImmutableMessage[] = [];
  for (const m of messages) out.push(m.intoImmutable(await wal.append(m)));
  return out;
}

describe('replayRecovery', () => {
  it('rebuilds exactly the transactions still open at the barrier', async () => {
    const wal = await backend();
    const stored = await write(wal, [
      begin(1n, 10_000n, 10), // committed below
      body(1n, 10_000n, 11),
      tick(12),
      begin(2n, 1n, 13), // expires: keepalive 1 ms
      commit(1n, 10_000n, 14),
      begin(3n, 10_000n, 15), // stays open
      body(3n, 10_000n, 16),
      begin(4n, 10_000n, 17), // rolled back
      rollback(4n, 10_000n, 18),
      insert(V1).withTimeTick(tt(19)).withLastConfirmed(LC),
      tick(20),
    ]);
    const [barrier] = await write(wal, [tick(100)]);
    if (barrier === undefined) throw new Error('no barrier');
    const result = await replayRecovery(wal, { from: (stored[0] as ImmutableMessage).messageId, barrier });
    expect(result.uncommitted.map((b) => b.txnId)).toEqual([3n]);
    expect(result.uncommitted[0]?.bodies).toHaveLength(1);
    expect(result.replayedMessages).toBe(stored.length + 1);
  });

  it('orders by time tick before assembling (a body written before its begin in id order is not lost)', async () => {
    const wal = await backend();
    // Concurrent appends: the insert at tick 5 lands after the begin at tick 6.
    const stored = await write(wal, [begin(7n, 10_000n, 6), insert(V1).withTimeTick(tt(5)).withLastConfirmed(LC), body(7n, 10_000n, 8), tick(9)]);
    const [barrier] = await write(wal, [tick(50)]);
    if (barrier === undefined) throw new Error('no barrier');
    const result = await replayRecovery(wal, { from: (stored[0] as ImmutableMessage).messageId, barrier });
    expect(result.uncommitted.map((b) => [b.txnId, b.bodies.length])).toEqual([[7n, 1]]);
  });

  it('starting after a begin finds no transaction (its bodies are dropped as unknown)', async () => {
    const wal = await backend();
    const stored = await write(wal, [begin(9n, 10_000n, 1), body(9n, 10_000n, 2)]);
    const [barrier] = await write(wal, [tick(10)]);
    if (barrier === undefined) throw new Error('no barrier');
    const result = await replayRecovery(wal, { from: (stored[1] as ImmutableMessage).messageId, barrier });
    expect(result.uncommitted).toEqual([]);
  });

  it('replays nothing without a start or when the start is the barrier', async () => {
    const wal = await backend();
    const [barrier] = await write(wal, [tick(1)]);
    if (barrier === undefined) throw new Error('no barrier');
    expect(await replayRecovery(wal, { from: undefined, barrier })).toEqual({ uncommitted: [], replayedMessages: 0 });
    expect(await replayRecovery(wal, { from: barrier.messageId, barrier })).toEqual({ uncommitted: [], replayedMessages: 0 });
  });

  it('fails with UNRECOVERABLE when the start was truncated', async () => {
    const wal = await backend();
    const stored = await write(wal, [insert(V1).withTimeTick(tt(1)).withLastConfirmed(LC), insert(V1).withTimeTick(tt(2)).withLastConfirmed(LC)]);
    const [barrier] = await write(wal, [tick(10)]);
    if (barrier === undefined) throw new Error('no barrier');
    await wal.truncate((stored[0] as ImmutableMessage).messageId);
    await expectCode(replayRecovery(wal, { from: (stored[0] as ImmutableMessage).messageId, barrier }), StreamingCode.UNRECOVERABLE);
  });
});
