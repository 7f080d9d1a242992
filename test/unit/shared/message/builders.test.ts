import { describe, expect, it } from 'vitest';
import { decodeProto } from '../../../../shared/proto/codec.js';
import {
  MessageId,
  MessageType,
  newBeginTxnMessage,
  newCommitTxnMessage,
  newRollbackTxnMessage,
  newTimeTickMessage,
  newUserMessage,
  readBeginTxnKeepaliveMs,
  txnContext,
  validateProducerProperties,
} from '../../../../shared/message/index.js';
import { expectInvalid } from './expect-invalid.js';

const VC = 'by-dev-rootcoord-dml_1_7v0';

describe('newUserMessage', () => {
  it('sets _t, _v (per type), _h (base64 header) and _vc, and keeps user properties', () => {
    const header = Buffer.from([0x08, 0x2a]);
    const msg = newUserMessage({ type: MessageType.Insert, vchannel: VC, header, payload: Buffer.from('body'), properties: { trace: 'x' } });
    expect(msg.properties).toEqual({ _t: '2', _v: '1', _h: 'CCo=', _vc: VC, trace: 'x' });
    expect(msg.payload.toString()).toBe('body');
    const v2 = newUserMessage({ type: MessageType.ManualFlush, vchannel: VC, payload: Buffer.alloc(0) });
    expect(v2.properties).toEqual({ _t: '9', _v: '2', _h: '', _vc: VC });
  });

  it('addresses every vchannel when no vchannel is given', () => {
    const msg = newUserMessage({ type: MessageType.Import, payload: Buffer.alloc(0) });
    expect(msg.vchannel).toBeUndefined();
    expect(msg.hasProperty('_vc')).toBe(false);
  });

  it('rejects types that are service-generated or have their own builder, unknown types and reserved keys', () => {
    for (const type of [MessageType.TimeTick, MessageType.Flush, MessageType.CreateSegment, MessageType.BeginTxn, MessageType.CommitTxn, MessageType.RollbackTxn, MessageType.Txn, MessageType.Unknown, 41 as MessageType]) {
      expectInvalid(() => newUserMessage({ type, vchannel: VC, payload: Buffer.alloc(0) }), 'message type');
    }
    expectInvalid(() => newUserMessage({ type: MessageType.Insert, vchannel: VC, payload: Buffer.alloc(0), properties: { _tt: '1' } }), '_tt');
    expectInvalid(() => newUserMessage({ type: MessageType.Insert, vchannel: 'bad', payload: Buffer.alloc(0) }), 'vchannel');
  });
});

describe('newTimeTickMessage', () => {
  it('builds the WAL time tick: all vchannels, empty header, TimeTickMsg body, _tt', () => {
    const msg = newTimeTickMessage({ timeTick: 445644800000000003n, sourceId: 2n, lastConfirmed: MessageId.of(12345n) });
    expect(msg.properties).toEqual({ _t: '1', _v: '1', _h: '', _tt: (445644800000000003n).toString(36), _lc: '9ix' });
    expect(msg.vchannel).toBeUndefined();
    const body = decodeProto<{ base: { msg_type: string; timestamp: string; sourceID: string } }>('milvus.proto.msg.TimeTickMsg', msg.payload);
    expect(body.base).toMatchObject({ msg_type: 'TimeTick', timestamp: '445644800000000003', sourceID: '2' });
  });

  it('can use its own id as last confirmed and be marked not persisted', () => {
    const msg = newTimeTickMessage({ timeTick: 1n, lastConfirmed: 'self', notPersisted: true });
    expect(msg.property('_lcs')).toBe('');
    expect(msg.property('_np')).toBe('');
    expect(msg.notPersisted).toBe(true);
    // A producer could never send it: the type is WAL-generated and `_tt`/`_np` are node-only.
    expectInvalid(() => validateProducerProperties(msg.properties), '_t');
    const { _t: _type, ...rest } = msg.properties;
    expectInvalid(() => validateProducerProperties({ ...rest, _t: '2' }), '_tt');
  });
});

describe('transaction builders', () => {
  it('BeginTxn carries the keepalive in its header (Go-identical bytes)', () => {
    const msg = newBeginTxnMessage({ vchannel: VC, keepaliveMs: 5000 });
    expect(msg.properties).toEqual({ _t: '900', _v: '2', _h: 'CIgn', _vc: VC });
    expect(readBeginTxnKeepaliveMs(msg)).toBe(5000n);
    expect(msg.payload.length).toBe(0);
    const dflt = newBeginTxnMessage({ vchannel: VC });
    expect(dflt.property('_h')).toBe('');
    expect(readBeginTxnKeepaliveMs(dflt)).toBe(0n);
    expectInvalid(() => newBeginTxnMessage({ vchannel: VC, keepaliveMs: -1 }), 'txn keepalive');
    expectInvalid(() => newBeginTxnMessage({ vchannel: VC, keepaliveMs: 1.5 }), 'txn keepalive');
    expectInvalid(() => readBeginTxnKeepaliveMs(newCommitTxnMessage({ vchannel: VC })), '_t');
  });

  it('CommitTxn and RollbackTxn have empty header and body and carry _tx when given', () => {
    const txn = txnContext(42n, 10_000n);
    const commit = newCommitTxnMessage({ vchannel: VC, txn });
    expect(commit.messageType).toBe(MessageType.CommitTxn);
    expect(commit.property('_h')).toBe('');
    expect(commit.txnContext).toEqual({ txnId: 42n, keepaliveMs: 10_000n });
    const rollback = newRollbackTxnMessage({ vchannel: VC });
    expect(rollback.messageType).toBe(MessageType.RollbackTxn);
    expect(rollback.version).toBe(2);
    expect(rollback.txnContext).toBeUndefined();
  });
});
