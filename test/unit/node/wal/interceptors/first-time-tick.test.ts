import { describe, expect, it } from 'vitest';
import { appendFirstTimeTick, recoveryLastConfirmed } from '../../../../../node/wal/interceptors/index.js';
import { TxnMessageBuilder } from '../../../../../node/wal/utility/index.js';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import {
  MessageId,
  MessageType,
  type MutableMessage,
  newBeginTxnMessage,
  txnContext,
} from '../../../../../shared/message/index.js';
import { LocalTsoAllocator } from '../../../../../shared/tso/index.js';
import { expectCode, FakeClock, V1 } from './fixtures.js';

/** A backend whose first `failures` appends fail with `error`. */
function flakyBackend(failures: number, error: () => Error = () => StreamingError.inner('disk busy')) {
  const attempts: MutableMessage[] = [];
  return {
    attempts,
    append(message: MutableMessage): Promise<MessageId> {
      attempts.push(message);
      if (attempts.length <= failures) return Promise.reject(error());
      return Promise.resolve(MessageId.of(100 + attempts.length));
    },
  };
}

const fastBackoff = { initialMs: 1, maxMs: 4, jitter: 0 };

describe('appendFirstTimeTick', () => {
  it('retries a failing backend with a fresh timestamp each time, then returns the stored tick', async () => {
    const tso = new LocalTsoAllocator({ now: new FakeClock().now });
    const backend = flakyBackend(3);
    const first = await appendFirstTimeTick(backend, tso, { backoff: fastBackoff });
    expect(backend.attempts).toHaveLength(4);
    const ticks = backend.attempts.map((m) => m.timeTick as bigint);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1] as bigint);
    expect(first.messageType).toBe(MessageType.TimeTick);
    expect(first.isPersisted).toBe(true);
    expect(first.vchannel).toBeUndefined();
    expect(first.timeTick).toBe(ticks[3]);
    expect(first.messageId.equals(MessageId.of(104))).toBe(true);
    // Without a checkpoint the tick confirms itself (`_lcs`).
    expect(first.lastConfirmedMessageId.equals(first.messageId)).toBe(true);
  });

  it('stamps the checkpoint id as last confirmed when given one', async () => {
    const first = await appendFirstTimeTick(flakyBackend(0), new LocalTsoAllocator(), { checkpointId: MessageId.of(42) });
    expect(first.lastConfirmedMessageId.equals(MessageId.of(42))).toBe(true);
  });

  it('does not retry what waiting cannot fix', async () => {
    const fenced = flakyBackend(10, () => StreamingError.channelFenced('p'));
    await expectCode(appendFirstTimeTick(fenced, new LocalTsoAllocator(), { backoff: fastBackoff }), StreamingCode.CHANNEL_FENCED);
    expect(fenced.attempts).toHaveLength(1);
  });

  it('stops retrying when aborted', async () => {
    const ac = new AbortController();
    const backend = {
      append: (): Promise<MessageId> => {
        ac.abort(StreamingError.onShutdown('wal closing'));
        return Promise.reject(StreamingError.inner('disk busy'));
      },
    };
    await expectCode(appendFirstTimeTick(backend, new LocalTsoAllocator(), { signal: ac.signal }), StreamingCode.ON_SHUTDOWN);
  });
});

describe('recoveryLastConfirmed', () => {
  it('is the first tick id unless an uncommitted transaction starts earlier', async () => {
    const first = await appendFirstTimeTick(flakyBackend(0), new LocalTsoAllocator());
    expect(recoveryLastConfirmed(first).equals(first.messageId)).toBe(true);
    const txn = txnContext(7, 1_000);
    const begin = newBeginTxnMessage({ vchannel: V1, keepaliveMs: 1_000 })
      .withTxnContext(txn)
      .withTimeTick(5n)
      .withLastConfirmed(MessageId.of(3))
      .intoImmutable(MessageId.of(9));
    expect(recoveryLastConfirmed(first, [new TxnMessageBuilder(begin)]).equals(MessageId.of(3))).toBe(true);
  });
});
