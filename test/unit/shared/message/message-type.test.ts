import { describe, expect, it } from 'vitest';
import { protoRoot } from '../../../../shared/proto/codec.js';
import {
  isCipherEnabledMessageType,
  isExclusiveRequiredMessageType,
  isKnownMessageType,
  isSelfControlledMessageType,
  isSystemMessageType,
  isTxnControlMessageType,
  marshalMessageType,
  MessageType,
  MessageVersion,
  messageTypeFromProto,
  messageTypeName,
  messageTypeVersion,
  parseMessageType,
  parseMessageTypeNumber,
} from '../../../../shared/message/index.js';
import { expectInvalid } from './expect-invalid.js';

const allTypes = Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number');

describe('MessageType', () => {
  it('has the numbers of Milvus messages.proto', () => {
    expect(MessageType.TimeTick).toBe(1);
    expect(MessageType.Insert).toBe(2);
    expect(MessageType.CreateSegment).toBe(10);
    expect(MessageType.TruncateCollection).toBe(38);
    expect(MessageType.AlterRLSMetadata).toBe(47);
    expect(MessageType.AlterWAL).toBe(700);
    expect(MessageType.AlterReplicateConfig).toBe(800);
    expect(MessageType.BeginTxn).toBe(900);
    expect(MessageType.Txn).toBe(999);
  });

  it('matches the MessageType enum of our proto/messages.proto name for name', () => {
    const fromProto = new Map(Object.entries(protoRoot().lookupEnum('.milvus.proto.messages.MessageType').values));
    expect(fromProto.size).toBe(allTypes.length);
    for (const type of allTypes) expect(fromProto.get(messageTypeName(type))).toBe(type);
  });

  it('marshals and parses `_t` as decimal', () => {
    for (const type of allTypes) {
      expect(marshalMessageType(type)).toBe(String(type));
      if (type !== MessageType.Unknown) expect(parseMessageType(marshalMessageType(type))).toBe(type);
    }
    expect(parseMessageTypeNumber('0042')).toBe(42);
  });

  it('rejects malformed, unknown and Unknown types, naming `_t`', () => {
    for (const bad of ['', 'x', '1.0', '-1', '+2', ' 2', '2 ', '0x2', '99999999999']) {
      expectInvalid(() => parseMessageType(bad), '_t');
    }
    expect(expectInvalid(() => parseMessageType('40'), '_t').message).toContain('unknown message type 40');
    expectInvalid(() => parseMessageType('0'), '_t');
    expect(parseMessageTypeNumber('40')).toBe(40);
  });

  it('reads proto enum values by name or number', () => {
    expect(messageTypeFromProto('Insert')).toBe(MessageType.Insert);
    expect(messageTypeFromProto(901)).toBe(MessageType.CommitTxn);
    expectInvalid(() => messageTypeFromProto('Nope'), 'message_type');
    expectInvalid(() => messageTypeFromProto(41), 'message_type');
  });

  it('knows the version of each type (V1/V2 column)', () => {
    const v1 = [
      MessageType.TimeTick,
      MessageType.Insert,
      MessageType.Delete,
      MessageType.CreateCollection,
      MessageType.DropCollection,
      MessageType.CreatePartition,
      MessageType.DropPartition,
      MessageType.Import,
    ];
    for (const type of allTypes) {
      expect(messageTypeVersion(type)).toBe(v1.includes(type) ? MessageVersion.V1 : MessageVersion.V2);
    }
  });

  it('has the traits of Milvus message_type.go', () => {
    const pick = (f: (t: MessageType) => boolean) => allTypes.filter(f).sort((a, b) => a - b);
    expect(pick(isSystemMessageType)).toEqual([1, 900, 901, 902, 999]);
    expect(pick(isSelfControlledMessageType)).toEqual([1, 4, 10]);
    expect(pick(isExclusiveRequiredMessageType)).toEqual([5, 6, 7, 8, 9, 12, 13, 37, 38, 700, 800]);
    expect(pick(isCipherEnabledMessageType)).toEqual([2, 3]);
    expect(pick(isTxnControlMessageType)).toEqual([900, 901, 902]);
    expect(isKnownMessageType(39)).toBe(false);
    expect(messageTypeName(39 as MessageType)).toBe('MessageType(39)');
  });
});
