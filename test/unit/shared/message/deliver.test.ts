import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import { decodeProto, encodeProto } from '../../../../shared/proto/index.js';
import {
  MessageId,
  MessageType,
  deliverFilterFromProto,
  deliverFilterToProto,
  deliverPolicyFromProto,
  deliverPolicyToProto,
  filterMessageTypes,
  type DeliverFilter,
  type DeliverPolicy,
} from '../../../../shared/message/index.js';

const roundTripPolicy = (p: DeliverPolicy): DeliverPolicy =>
  deliverPolicyFromProto(decodeProto('milvus.proto.streaming.DeliverPolicy', encodeProto('milvus.proto.streaming.DeliverPolicy', deliverPolicyToProto(p))));
const roundTripFilter = (f: DeliverFilter): DeliverFilter =>
  deliverFilterFromProto(decodeProto('milvus.proto.streaming.DeliverFilter', encodeProto('milvus.proto.streaming.DeliverFilter', deliverFilterToProto(f))));

describe('deliver policies and filters', () => {
  it('round-trip every policy through the wire form', () => {
    const id = MessageId.of(12345n);
    expect(roundTripPolicy({ kind: 'all' })).toEqual({ kind: 'all' });
    expect(roundTripPolicy({ kind: 'latest' })).toEqual({ kind: 'latest' });
    const from = roundTripPolicy({ kind: 'startFrom', id });
    expect(from.kind === 'startFrom' && from.id.equals(id)).toBe(true);
    const after = roundTripPolicy({ kind: 'startAfter', id });
    expect(after.kind === 'startAfter' && after.id.equals(id)).toBe(true);
  });

  it('round-trip every filter, with time ticks beyond 2^53', () => {
    expect(roundTripFilter({ kind: 'timeTickGt', timeTick: 463_000_000_000_000_001n })).toEqual({ kind: 'timeTickGt', timeTick: 463_000_000_000_000_001n });
    expect(roundTripFilter({ kind: 'timeTickGte', timeTick: 7n })).toEqual({ kind: 'timeTickGte', timeTick: 7n });
    expect(roundTripFilter(filterMessageTypes([MessageType.Insert, MessageType.Delete]))).toEqual({
      kind: 'messageType',
      types: [MessageType.Insert, MessageType.Delete],
    });
  });

  it('refuses empty oneofs and system types with INVAILD_ARGUMENT naming the field', () => {
    expect(() => deliverPolicyFromProto({})).toThrow(expect.objectContaining({ code: StreamingCode.INVAILD_ARGUMENT }));
    expect(() => deliverPolicyFromProto(undefined)).toThrow(/deliver_policy/);
    expect(() => deliverFilterFromProto({})).toThrow(/deliver_filter/);
    expect(() => filterMessageTypes([MessageType.TimeTick])).toThrow(/system type TimeTick/);
    expect(() => deliverFilterFromProto({ filter: 'message_type', message_type: { message_types: ['CommitTxn' as never] } })).toThrow(/cannot be filtered/);
  });
});
