import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../../../../shared/log/index.js';
import { MessageId, MessageType, PropertyKey, TXN_KEEPALIVE_INFINITE_MS } from '../../../../../shared/message/index.js';
import { addPhysicalMs, composeTs, MAX_TS } from '../../../../../shared/tso/index.js';
import {
  ImmutableTxnMessage,
  isImmutableTxnMessage,
  type ScannedMessage,
  TxnBuffer,
  TxnMessageBuilder,
} from '../../../../../node/wal/utility/index.js';
import { begin, commit, insert, rollback, tick, txn, VCHANNEL } from './fixtures.js';

const BASE = composeTs(1_700_000_000_000, 0);
const at = (ms: number): bigint => addPhysicalMs(BASE, ms);

let nextId = 1;
const id = (): number => nextId++;

function spyLogger(): Logger & { warn: ReturnType<typeof vi.fn> } {
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn(), child: () => logger };
  return logger;
}

describe('TxnBuffer (Go TestTxnBuffer)', () => {
  it('passes messages outside transactions through and drops orphans', () => {
    const logger = spyLogger();
    const buffer = new TxnBuffer({ logger });
    expect(buffer.handle([insert(id(), BASE), insert(id(), BASE), insert(id(), BASE)], at(1))).toHaveLength(3);

    const txn1 = txn(1, 1000);
    const txn2 = txn(2, 1000);
    const out = buffer.handle(
      [insert(id(), BASE), insert(id(), BASE, txn1), insert(id(), BASE), rollback(id(), BASE, txn1), commit(id(), BASE, txn2)],
      at(1),
    );
    expect(out).toHaveLength(2);
    expect(out.every((m) => !isImmutableTxnMessage(m))).toBe(true);
    expect(buffer.stats).toMatchObject({ droppedBodies: 1, droppedCommits: 1, rolledBack: 0 });
    expect(logger.warn).toHaveBeenCalledTimes(2);
  });

  // A transaction with keepalive 201 ms: begin at +0, bodies at +100 and +300.
  const openTxn = (buffer: TxnBuffer, t: ReturnType<typeof txn>): void => {
    expect(buffer.handle([begin(id(), BASE, t)], at(1))).toHaveLength(0);
    expect(buffer.handle([insert(id(), at(100), t)], at(200))).toHaveLength(0);
    // The autocommit message in between is not held back by the open transaction.
    expect(buffer.handle([insert(id(), at(250)), insert(id(), at(300), t)], at(400))).toHaveLength(1);
  };

  it('holds a transaction until its commit, then emits exactly one Txn message', () => {
    const buffer = new TxnBuffer();
    const t = txn(1, 201);
    openTxn(buffer, t);
    expect(buffer.uncommittedBuilders()).toHaveLength(1);
    const out = buffer.handle([commit(id(), at(500), t)], at(600));
    expect(out).toHaveLength(1);
    expect(isImmutableTxnMessage(out[0] as ScannedMessage)).toBe(true);
    expect((out[0] as ImmutableTxnMessage).bodies).toHaveLength(2);
    expect(buffer.openTxnCount).toBe(0);
    expect(buffer.bytes).toBe(0);
    expect(buffer.stats.committed).toBe(1);
  });

  it('drops a rolled back transaction', () => {
    const buffer = new TxnBuffer();
    const t = txn(2, 201);
    openTxn(buffer, t);
    expect(buffer.handle([rollback(id(), at(500), t)], at(600))).toHaveLength(0);
    expect(buffer.openTxnCount).toBe(0);
    expect(buffer.stats.rolledBack).toBe(1);
  });

  it('keeps a transaction until last body + keepalive, drops it at that tick', () => {
    const buffer = new TxnBuffer();
    const t = txn(3, 201);
    openTxn(buffer, t);
    expect(buffer.uncommittedBuilders()[0]?.expiredTimeTick).toBe(at(501));
    buffer.handle([], at(500));
    expect(buffer.openTxnCount).toBe(1);
    buffer.handle([], at(501));
    expect(buffer.openTxnCount).toBe(0);
    expect(buffer.stats.expired).toBe(1);
    // Its commit, should it still arrive, is an orphan now.
    expect(buffer.handle([commit(id(), at(502), t)], at(600))).toHaveLength(0);
  });

  it('counts expiry from the begin while there is no body', () => {
    const buffer = new TxnBuffer();
    buffer.handle([begin(id(), at(10), txn(4, 50))], at(59));
    expect(buffer.openTxnCount).toBe(1);
    buffer.handle([], at(60));
    expect(buffer.openTxnCount).toBe(0);
  });

  it('never expires a transaction with an infinite keepalive', () => {
    const buffer = new TxnBuffer();
    buffer.handle([begin(id(), BASE, txn(5, TXN_KEEPALIVE_INFINITE_MS))], at(1));
    expect(buffer.uncommittedBuilders()[0]?.expiredTimeTick).toBe(MAX_TS);
    buffer.handle([], at(10_000_000_000));
    expect(buffer.openTxnCount).toBe(1);
  });

  it('ignores a repeated begin and keeps the bodies already collected', () => {
    const buffer = new TxnBuffer();
    const t = txn(6, 1000);
    const first = begin(id(), at(1), t);
    buffer.handle([first, insert(id(), at(2), t)], at(3));
    buffer.handle([begin(id(), at(4), t)], at(5));
    expect(buffer.stats.repeatedBegins).toBe(1);
    const [builder] = buffer.uncommittedBuilders();
    expect(builder?.begin).toBe(first);
    expect(builder?.bodies).toHaveLength(1);
  });

  it('keeps the input order of a mixed batch and lists open transactions oldest first', () => {
    const buffer = new TxnBuffer();
    const a = txn(10, 1000);
    const b = txn(11, 1000);
    const out = buffer.handle(
      [begin(20, at(1), b), begin(21, at(2), a), insert(22, at(3)), insert(23, at(4), a), commit(24, at(5), a), insert(25, at(6))],
      at(6),
    );
    expect(out.map((m) => m.messageType)).toEqual([MessageType.Insert, MessageType.Txn, MessageType.Insert]);
    expect(out.map((m) => m.messageId.offset)).toEqual([22n, 24n, 25n]);
    expect(buffer.uncommittedBuilders().map((x) => x.txnId)).toEqual([11n]);

    buffer.handle([begin(30, at(7), txn(12, 1000))], at(7));
    expect(buffer.uncommittedBuilders().map((x) => x.begin.messageId.offset)).toEqual([20n, 30n]);
  });
});

describe('ImmutableTxnMessage', () => {
  it('takes its position from the commit and re-stamps the bodies', () => {
    const t = txn(7, 1000);
    const b = begin(1, at(1), t, { lc: 1n });
    const body1 = insert(2, at(2), t, { lc: 1n });
    const body2 = insert(3, at(3), t, { lc: 2n });
    const c = commit(5, at(5), t, { lc: 4n });
    const builder = new TxnMessageBuilder(b);
    builder.add(body1);
    builder.add(body2);
    const msg = builder.build(c);

    expect(msg.messageType).toBe(MessageType.Txn);
    expect(msg.messageId.equals(MessageId.of(5))).toBe(true);
    expect(msg.timeTick).toBe(at(5));
    expect(msg.lastConfirmedMessageId.equals(MessageId.of(4))).toBe(true);
    expect(msg.vchannel).toBe(VCHANNEL);
    expect(msg.txnContext).toEqual(t);
    expect(msg.begin).toBe(b);
    expect(msg.commit).toBe(c);
    for (const body of msg.bodies) {
      expect(body.timeTick).toBe(at(5));
      expect(body.lastConfirmedMessageId.equals(MessageId.of(4))).toBe(true);
      expect(body.hasProperty(PropertyKey.LastConfirmedUseMessageId)).toBe(false);
    }
    expect(msg.bodies.map((x) => x.messageId.offset)).toEqual([2n, 3n]);
    expect(msg.bodies[0]?.payload).toBe(body1.payload);
    // The originals are untouched.
    expect(body1.timeTick).toBe(at(2));

    const envelope = msg.envelope;
    expect(envelope.messageType).toBe(MessageType.Txn);
    expect(envelope.messageId.equals(c.messageId)).toBe(true);
    expect(envelope.timeTick).toBe(at(5));
    expect(envelope.lastConfirmedMessageId.equals(MessageId.of(4))).toBe(true);
    expect(envelope.vchannel).toBe(VCHANNEL);
    expect(envelope.txnContext).toEqual(t);

    expect(msg.flatten().map((x) => x.messageId.offset)).toEqual([1n, 2n, 3n, 5n]);
    expect(msg.estimateSize()).toBe(b.estimateSize() + msg.bodies[0]!.estimateSize() + msg.bodies[1]!.estimateSize() + c.estimateSize());
    expect(ImmutableTxnMessage.assemble(b, [], c).bodies).toEqual([]);
  });

  it('refuses to start a builder from anything but a BeginTxn with a context', () => {
    expect(() => new TxnMessageBuilder(insert(1, 1, txn(1, 10)))).toThrow(RangeError);
    expect(() => new TxnMessageBuilder(tick(1, 1))).toThrow(RangeError);
  });
});
