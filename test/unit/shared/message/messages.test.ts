import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProto, encodeProto } from '../../../../shared/proto/codec.js';
import {
  ImmutableMessage,
  MAX_UINT64,
  MessageId,
  MessageType,
  MutableMessage,
  newUserMessage,
  txnContext,
} from '../../../../shared/message/index.js';
import { expectInvalid } from './expect-invalid.js';

const VC = 'by-dev-rootcoord-dml_0_100v0';
const insert = () =>
  newUserMessage({ type: MessageType.Insert, vchannel: VC, header: Buffer.from([8, 1]), payload: Buffer.from('payload'), properties: { k: 'v' } });

describe('MutableMessage', () => {
  it('exposes typed accessors over the properties', () => {
    const msg = insert();
    expect(msg.messageType).toBe(MessageType.Insert);
    expect(msg.version).toBe(1);
    expect(msg.vchannel).toBe(VC);
    expect(msg.timeTick).toBeUndefined();
    expect(msg.walTerm).toBeUndefined();
    expect(msg.barrierTimeTick).toBeUndefined();
    expect(msg.txnContext).toBeUndefined();
    expect(msg.broadcastHeader).toBeUndefined();
    expect(msg.isBroadcast).toBe(false);
    expect(msg.notPersisted).toBe(false);
    expect(msg.isPersisted).toBe(true);
    expect(msg.isFromStreaming).toBe(true);
    expect(msg.headerBytes()).toEqual(Buffer.from([8, 1]));
    expect(msg.userProperties()).toEqual({ k: 'v' });
    expect(msg.property('k')).toBe('v');
    expect(Object.isFrozen(msg.properties)).toBe(true);
  });

  it('reads an absent vchannel as all vchannels and an absent type as Unknown', () => {
    const msg = MutableMessage.create(Buffer.alloc(0), {});
    expect(msg.vchannel).toBeUndefined();
    expect(msg.messageType).toBe(MessageType.Unknown);
    expect(msg.version).toBe(0);
    expect(msg.isFromStreaming).toBe(false);
  });

  it('returns new messages from with… methods, sharing the payload and leaving the original alone', () => {
    const msg = insert();
    const stamped = msg
      .withTimeTick(445644800000000003n)
      .withLastConfirmed(MessageId.of(12345n))
      .withWalTerm(3n)
      .withBarrierTimeTick(7n)
      .withTxnContext(txnContext(9n, 1000n));
    expect(msg.timeTick).toBeUndefined();
    expect(Object.keys(msg.properties)).not.toContain('_tt');
    expect(stamped.payload).toBe(msg.payload);
    expect(stamped.timeTick).toBe(445644800000000003n);
    expect(stamped.property('_tt')).toBe((445644800000000003n).toString(36));
    expect(stamped.property('_lc')).toBe('9ix');
    expect(stamped.walTerm).toBe(3n);
    expect(stamped.barrierTimeTick).toBe(7n);
    expect(stamped.txnContext).toEqual({ txnId: 9n, keepaliveMs: 1000n });
    expect(stamped.withNotPersisted().notPersisted).toBe(true);
    expect(stamped.withVChannel('p_2v0').vchannel).toBe('p_2v0');
  });

  it('keeps _lc and _lcs mutually exclusive', () => {
    const a = insert().withLastConfirmed(MessageId.of(1n)).withLastConfirmedUseMessageId();
    expect(a.hasProperty('_lc')).toBe(false);
    expect(a.property('_lcs')).toBe('');
    expect(a.lastConfirmed).toBe('self');
    const b = a.withLastConfirmed(MessageId.of(2n));
    expect((b.lastConfirmed as MessageId).offset).toBe(2n);
    expect(insert().lastConfirmed).toBeUndefined();
    expect(b.hasProperty('_lcs')).toBe(false);
    expect(b.property('_lc')).toBe('2');
  });

  it('sets the WAL term and the barrier time tick only once', () => {
    expectInvalid(() => insert().withWalTerm(1n).withWalTerm(2n), '_wt');
    expectInvalid(() => insert().withBarrierTimeTick(1n).withBarrierTimeTick(2n), '_btt');
    expectInvalid(() => insert().withTimeTick(MAX_UINT64 + 1n), '_tt');
    expectInvalid(() => insert().withVChannel(''), '_vc');
  });

  it('throws naming the key when a reserved value is malformed', () => {
    const bad = MutableMessage.create(Buffer.alloc(0), { _t: 'x', _tt: '!', _wt: '', _tx: '@', _bh: '#', _v: 'v', _btt: '?' });
    expectInvalid(() => bad.messageType, '_t');
    expectInvalid(() => bad.timeTick, '_tt');
    expectInvalid(() => bad.walTerm, '_wt');
    expectInvalid(() => bad.txnContext, '_tx');
    expectInvalid(() => bad.broadcastHeader, '_bh');
    expectInvalid(() => bad.version, '_v');
    expectInvalid(() => bad.barrierTimeTick, '_btt');
  });

  it('passes unknown message type numbers through', () => {
    expect(MutableMessage.create(Buffer.alloc(0), { _t: '41' }).messageType).toBe(41);
  });

  it('estimates size as payload plus UTF-8 bytes of keys and values', () => {
    const msg = MutableMessage.create(Buffer.from('abc'), { k: 'vé', _t: '2' });
    expect(msg.estimateSize()).toBe(3 + 1 + 3 + 2 + 1);
  });

  it('withAppendStamp sets _tt, _lc and _wt in one copy, like the separate with… calls', () => {
    const fresh = (m: MutableMessage): MutableMessage => MutableMessage.create(m.payload, m.properties);
    const bases = [insert, () => insert().withLastConfirmedUseMessageId(), () => insert().withTimeTick(7n).withWalTerm(1n)].flatMap((make) => {
      const sized = make();
      sized.estimateSize(); // a size the stamp adjusts instead of recomputing
      return [make(), sized];
    });
    for (const base of bases) {
      const stamped = base.withAppendStamp(1234567890123n, MessageId.of(42n), 3n);
      const chained = base.withTimeTick(1234567890123n).withLastConfirmed(MessageId.of(42n)).withProperties({ _wt: '3' });
      expect(stamped.properties).toEqual(chained.properties);
      expect(Object.keys(stamped.properties)).toEqual(Object.keys(chained.properties));
      expect(Object.isFrozen(stamped.properties)).toBe(true);
      expect(stamped.timeTick).toBe(1234567890123n);
      expect(stamped.lastConfirmed).toEqual(MessageId.of(42n));
      expect(stamped.walTerm).toBe(3n);
      expect(stamped.estimateSize()).toBe(fresh(stamped).estimateSize());
      const noTerm = base.withAppendStamp(5n, MessageId.of(1n));
      expect(noTerm.walTerm).toBe(base.walTerm);
      expect(noTerm.estimateSize()).toBe(fresh(noTerm).estimateSize());
    }
  });

  it('copies the properties it is given', () => {
    const props: Record<string, string> = { a: '1' };
    const msg = MutableMessage.fromProto({ payload: null, properties: props });
    props.a = '2';
    expect(msg.property('a')).toBe('1');
    expect(msg.payload.length).toBe(0);
    expect(msg.toProto()).toEqual({ payload: Buffer.alloc(0), properties: { a: '1' } });
  });
});

describe('ImmutableMessage', () => {
  it('pairs the message with its id and reads time tick and last confirmed', () => {
    const mutable = insert().withTimeTick(100n).withLastConfirmed(MessageId.of(5n));
    const msg = mutable.intoImmutable(MessageId.of(12345n));
    expect(msg.messageId.offset).toBe(12345n);
    expect(msg.timeTick).toBe(100n);
    expect(msg.hasTimeTick).toBe(true);
    expect(msg.lastConfirmedMessageId.offset).toBe(5n);
    expect(msg.properties).toBe(mutable.properties);
    expect(msg.payload).toBe(mutable.payload);
    expect(String(msg)).toBe(`ImmutableMessage(id=12345, type=Insert, vchannel=${VC}, tt=100)`);
  });

  it('honours _lcs as "my own id"', () => {
    const msg = insert().withTimeTick(1n).withLastConfirmedUseMessageId().intoImmutable(MessageId.of(77n));
    expect(msg.lastConfirmedMessageId.offset).toBe(77n);
  });

  it('requires a time tick and a last confirmed id', () => {
    const msg = insert().intoImmutable(MessageId.of(1n));
    expect(msg.hasTimeTick).toBe(false);
    expectInvalid(() => msg.timeTick, '_tt');
    expectInvalid(() => msg.lastConfirmedMessageId, '_lc');
    const bad = insert().withProperties({ _lc: 'bad!' }).intoImmutable(MessageId.of(1n));
    expectInvalid(() => bad.lastConfirmedMessageId, '_lc');
    expect(String(MutableMessage.create(Buffer.alloc(0), { _t: 'x', _tt: '?' }).intoImmutable(MessageId.of(3n)))).toContain('id=3');
  });

  it('round-trips through the common.ImmutableMessage proto', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        fc.uint8Array({ maxLength: 32 }),
        fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 8 })),
        fc.bigInt({ min: 0n, max: MAX_UINT64 }),
        (offset, payload, props, tt) => {
          const msg = MutableMessage.create(Buffer.from(payload), props).withTimeTick(tt).intoImmutable(MessageId.of(offset));
          const bytes = encodeProto('milvus.proto.common.ImmutableMessage', msg.toProto());
          const back = ImmutableMessage.fromProto(decodeProto('milvus.proto.common.ImmutableMessage', bytes));
          expect(back.messageId.equals(msg.messageId)).toBe(true);
          expect([...back.payload]).toEqual([...payload]);
          expect(back.properties).toEqual(msg.properties);
          expect(back.timeTick).toBe(tt);
        },
      ),
    );
  });

  it('rejects a proto without a usable id', () => {
    expectInvalid(() => ImmutableMessage.fromProto({ payload: Buffer.alloc(0), properties: {} }), 'message.id');
    expectInvalid(() => ImmutableMessage.fromProto({ id: { id: '1', WAL_name: 'Pulsar' } }), 'message.id.WAL_name');
  });

  it('re-stamps transaction body messages with the commit time tick and last confirmed id', () => {
    const body = insert().withTimeTick(10n).withLastConfirmedUseMessageId().intoImmutable(MessageId.of(4n));
    const stamped = body.withTxnCommitStamp(20n, MessageId.of(2n));
    expect(stamped.timeTick).toBe(20n);
    expect(stamped.lastConfirmedMessageId.offset).toBe(2n);
    expect(stamped.hasProperty('_lcs')).toBe(false);
    expect(stamped.messageId.offset).toBe(4n);
    expect(body.timeTick).toBe(10n);
  });
});
