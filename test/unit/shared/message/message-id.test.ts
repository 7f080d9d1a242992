import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProto, encodeProto } from '../../../../shared/proto/codec.js';
import { compareMessageIds, MAX_INT64, MessageId, WalName } from '../../../../shared/message/index.js';
import { expectInvalid } from './expect-invalid.js';

const offsets = fc.bigInt({ min: 0n, max: MAX_INT64 });

describe('MessageId (RocksMQ-style)', () => {
  it('marshals like a Milvus RocksMQ id', () => {
    expect(MessageId.of(12345n).marshal()).toBe('9ix');
    expect(MessageId.of(0).marshal()).toBe('0');
    expect(MessageId.MAX.marshal()).toBe('1y2p0ij32e8e7');
    expect(MessageId.unmarshal('9ix').offset).toBe(12345n);
    expect(MessageId.of(12345n).toString()).toBe('12345');
    expect(JSON.stringify({ id: MessageId.of(7n) })).toBe('{"id":"7"}');
  });

  it('round-trips marshal/unmarshal, bytes and proto', () => {
    fc.assert(
      fc.property(offsets, (offset) => {
        const id = MessageId.of(offset);
        expect(MessageId.unmarshal(id.marshal()).equals(id)).toBe(true);
        expect(MessageId.fromBytes(id.toBytes()).equals(id)).toBe(true);
        expect(MessageId.fromProto(id.toProto()).equals(id)).toBe(true);
      }),
    );
  });

  it('orders bytes exactly like offsets (usable as LevelDB keys)', () => {
    fc.assert(
      fc.property(offsets, offsets, (a, b) => {
        const x = MessageId.of(a);
        const y = MessageId.of(b);
        expect(Math.sign(Buffer.compare(x.toBytes(), y.toBytes()))).toBe(x.compare(y));
        expect(x.lt(y)).toBe(a < b);
        expect(x.lte(y)).toBe(a <= b);
        expect(x.gt(y)).toBe(a > b);
        expect(x.gte(y)).toBe(a >= b);
        expect(x.equals(y)).toBe(a === b);
      }),
    );
  });

  it('writes 8-byte big-endian keys', () => {
    expect(MessageId.of(258n).toBytes().toString('hex')).toBe('0000000000000102');
    expect(MessageId.MIN.toBytes().toString('hex')).toBe('0000000000000000');
    expect(MessageId.MAX.toBytes().toString('hex')).toBe('7fffffffffffffff');
    expect(MessageId.of(5n).next().offset).toBe(6n);
    expect([MessageId.of(3n), MessageId.of(1n), MessageId.of(2n)].sort(compareMessageIds).map(String)).toEqual(['1', '2', '3']);
  });

  it('produces the proto shape Milvus clients decode (WAL_name RocksMQ = 1)', () => {
    const proto = MessageId.of(12345n).toProto();
    expect(proto).toEqual({ id: '9ix', WAL_name: 'RocksMQ' });
    const bytes = encodeProto('milvus.proto.common.MessageID', proto);
    // field 1 (string "9ix"), field 2 (varint 1)
    expect(bytes.toString('hex')).toBe('0a03396978' + '1001');
    const decoded = decodeProto<{ id: string; WAL_name: string }>('milvus.proto.common.MessageID', bytes);
    expect(MessageId.fromProto(decoded).offset).toBe(12345n);
  });

  it('accepts WAL_name as name or number, and Unknown/absent as this WAL', () => {
    expect(MessageId.fromProto({ id: '9ix', WAL_name: 1 }).offset).toBe(12345n);
    expect(MessageId.fromProto({ id: '9ix', WAL_name: 'RocksMQ' }).offset).toBe(12345n);
    expect(MessageId.fromProto({ id: '9ix', WAL_name: 'Unknown' }).offset).toBe(12345n);
    expect(MessageId.fromProto({ id: '9ix' }).offset).toBe(12345n);
    expect(WalName.RocksMQ).toBe(1);
  });

  it('rejects other WALs and malformed ids with clear errors', () => {
    expect(expectInvalid(() => MessageId.fromProto({ id: '9ix', WAL_name: 'Kafka' }), 'WAL_name').message).toContain('Kafka');
    expectInvalid(() => MessageId.fromProto({ id: '9ix', WAL_name: 2 }), 'WAL_name');
    expectInvalid(() => MessageId.fromProto({ id: '9ix', WAL_name: 'Bogus' }), 'WAL_name');
    expectInvalid(() => MessageId.fromProto({ id: '9ix', WAL_name: 77 }), 'WAL_name');
    expectInvalid(() => MessageId.fromProto({ WAL_name: 1 }), 'message id.id');
    expectInvalid(() => MessageId.fromProto(null), 'message id');
    expectInvalid(() => MessageId.unmarshal(''), 'message id');
    expectInvalid(() => MessageId.unmarshal('-1'), 'message id');
    expectInvalid(() => MessageId.unmarshal('9i x'), 'message id');
    // 2^63 fits uint64 (Go would wrap it to a negative int64) but is no valid offset.
    expectInvalid(() => MessageId.unmarshal((MAX_INT64 + 1n).toString(36)), 'message id');
    expectInvalid(() => MessageId.of(-1n), 'message id');
    expectInvalid(() => MessageId.of(MAX_INT64 + 1n), 'message id');
    expectInvalid(() => MessageId.of(0.5), 'message id');
    expectInvalid(() => MessageId.fromBytes(Buffer.alloc(7)), 'message id');
    expectInvalid(() => MessageId.fromBytes(Buffer.from('8000000000000000', 'hex')), 'message id');
  });

  it('reads Go-style uppercase ids', () => {
    expect(MessageId.unmarshal('9IX').offset).toBe(12345n);
  });
});
