import { describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import {
  bigintsToStrings,
  decodeAny,
  decodeProto,
  decodeProtoBase64,
  encodeAny,
  encodeProto,
  encodeProtoBase64,
  hasProtoType,
  protoType,
  protoTypes,
  typeUrlOf,
} from '../../../../shared/proto/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Runs `fn`, expecting a StreamingError INVAILD_ARGUMENT whose message mentions `mention`. */
function expectInvalidArgument(fn: () => unknown, mention: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(StreamingError);
  const err = caught as StreamingError;
  expect(err.code).toBe(StreamingCode.INVAILD_ARGUMENT);
  expect(err.message).toContain(mention);
}

describe('golden wire encodings (pin field numbers)', () => {
  it('common.MessageID', () => {
    const bytes = encodeProto('milvus.proto.common.MessageID', { id: 'abc', WAL_name: 'RocksMQ' });
    expect(bytes.toString('hex')).toBe('0a03616263' + '1001');
    expect(decodeProto('milvus.proto.common.MessageID', bytes)).toEqual({ id: 'abc', WAL_name: 'RocksMQ' });
  });

  it('streaming.StreamingError', () => {
    const bytes = protoTypes.streaming.StreamingError.encode({ code: 'STREAMING_CODE_CHANNEL_FENCED', cause: 'x' });
    expect(bytes.toString('hex')).toBe('0802' + '120178');
  });

  it('messages.Message with payload and properties', () => {
    const bytes = protoTypes.messages.Message.encode({ payload: Buffer.from('hi'), properties: { k: 'v' } });
    // payload = 1 (bytes), properties = 2 (map entry {key = 1, value = 2})
    expect(bytes.toString('hex')).toBe('0a026869' + '1206' + '0a016b' + '120176');
    const back = protoTypes.messages.Message.decode(bytes);
    expect(Buffer.isBuffer(back.payload)).toBe(true);
    expect(back.payload.toString()).toBe('hi');
    expect(back.properties).toEqual({ k: 'v' });
  });

  it('common.ImmutableMessage', () => {
    const bytes = protoTypes.common.ImmutableMessage.encode({
      id: { id: '1', WAL_name: 'RocksMQ' },
      payload: Buffer.from([0xff]),
      properties: { _t: '1' },
    });
    expect(bytes).toEqual(hex('0a05 0a0131 1001' + '1201ff' + '1a07 0a025f74 120131'));
  });

  it('streaming.PChannelInfo with a term above 2^53', () => {
    const bytes = protoTypes.streaming.PChannelInfo.encode({
      name: 'p',
      term: 9007199254740993n,
      access_mode: 'PCHANNEL_ACCESS_READONLY',
    });
    // term = 2 (varint 2^53 + 1), access_mode = 3
    expect(bytes).toEqual(hex('0a0170' + '10 8180808080808010' + '1801'));
    expect(protoTypes.streaming.PChannelInfo.decode(bytes)).toEqual({
      name: 'p',
      term: '9007199254740993',
      access_mode: 'PCHANNEL_ACCESS_READONLY',
    });
  });

  it('messages.TxnContext and a negative int64', () => {
    expect(protoTypes.messages.TxnContext.encode({ txn_id: 5, keepalive_milliseconds: 1 })).toEqual(hex('0805 1001'));
    expect(protoTypes.messages.TxnContext.encode({ txn_id: -1 })).toEqual(hex('08 ffffffffffffffffff01'));
  });

  it('batch extension fields use numbers >= 1000', () => {
    // tag of field 1000, varint: (1000 << 3 | 0) = 8000 -> c0 3e
    expect(protoTypes.streaming.CreateProducerRequest.encode({ enable_batch: true })).toEqual(hex('c03e 01'));
    // tag of field 1000, length-delimited: (1000 << 3 | 2) = 8002 -> c2 3e
    const batch = protoTypes.streaming.ConsumeResponse.encode({ consume_batch: { consumer_id: 3 } });
    expect(batch).toEqual(hex('c23e 02 0803'));
  });

  it('absent fields are not written; explicit zero values decode like absent ones', () => {
    expect(protoTypes.streaming.StreamingError.encode({}).length).toBe(0);
    const explicitZero = protoTypes.streaming.StreamingError.encode({ code: 'STREAMING_CODE_OK', cause: '' });
    expect(protoTypes.streaming.StreamingError.decode(explicitZero)).toEqual({ code: 'STREAMING_CODE_OK', cause: '' });
    expect(protoTypes.streaming.PChannelInfo.decode(Buffer.alloc(0))).toEqual({
      name: '',
      term: '0',
      access_mode: 'PCHANNEL_ACCESS_READWRITE',
    });
  });
});

describe('64-bit integers', () => {
  it('accept bigint, decimal string and number alike, and decode as strings', () => {
    const a = protoTypes.streaming.VersionPair.encode({ global: 12n, local: 34n });
    const b = protoTypes.streaming.VersionPair.encode({ global: '12', local: '34' });
    const c = protoTypes.streaming.VersionPair.encode({ global: 12, local: 34 });
    expect(a).toEqual(b);
    expect(a).toEqual(c);
    expect(protoTypes.streaming.VersionPair.decode(a)).toEqual({ global: '12', local: '34' });
  });

  it('keep full uint64 precision (TSO time ticks)', () => {
    const max = 18446744073709551615n;
    const bytes = protoTypes.streaming.DeliverFilterTimeTickGT.encode({ time_tick: max });
    expect(protoTypes.streaming.DeliverFilterTimeTickGT.decode(bytes).time_tick).toBe(max.toString());
    const tick = (1_700_000_000_000n << 18n) | 5n;
    const header = protoTypes.messages.BroadcastHeader.encode({ broadcast_id: tick, vchannels: ['a', 'b'] });
    expect(BigInt(protoTypes.messages.BroadcastHeader.decode(header).broadcast_id)).toBe(tick);
  });

  it('converts bigints in nested messages, repeated fields and oneofs', () => {
    const bytes = protoTypes.streaming.UpdateWALBalancePolicyRequest.encode({
      nodes: { freeze_node_ids: [1n, 2n], defreeze_node_ids: [3n] },
    });
    const back = protoTypes.streaming.UpdateWALBalancePolicyRequest.decode(bytes);
    expect(back.nodes?.freeze_node_ids).toEqual(['1', '2']);
    expect(back.nodes?.defreeze_node_ids).toEqual(['3']);
    const resp = protoTypes.streaming.ProduceResponse.decode(
      protoTypes.streaming.ProduceResponse.encode({ produce: { request_id: 99n, result: { timetick: 1n << 60n } } }),
    );
    expect(resp.response).toBe('produce');
    expect(resp.produce?.request_id).toBe('99');
    expect(resp.produce?.result?.timetick).toBe((1n << 60n).toString());
  });

  it('bigintsToStrings copies only what it changes', () => {
    const payload = Buffer.from('x');
    const plain = { a: 'x', b: [1, 2], c: { payload } };
    expect(bigintsToStrings(plain)).toBe(plain);
    const input = { a: 1n, b: [2n, 'k'], c: { payload }, d: { e: 'same' } };
    const out = bigintsToStrings(input);
    expect(out).toEqual({ a: '1', b: ['2', 'k'], c: { payload }, d: { e: 'same' } });
    expect(input.a).toBe(1n);
    expect(out.c).toBe(input.c);
    expect(out.c.payload).toBe(payload);
  });
});

describe('enums', () => {
  it('accept names or numbers and decode to names', () => {
    const byNumber = protoTypes.streaming.StreamingError.encode({ code: 2 });
    const byName = protoTypes.streaming.StreamingError.encode({ code: 'STREAMING_CODE_CHANNEL_FENCED' });
    expect(byNumber).toEqual(byName);
  });

  it('keep numbers the schema does not know (line-dependent StreamingCode >= 14)', () => {
    const bytes = hex('080e'); // code = 14
    expect(protoTypes.streaming.StreamingError.decode(bytes).code).toBe(14);
  });
});

describe('bytes', () => {
  it('come back as Buffers even when decoding from a plain Uint8Array', () => {
    const bytes = new Uint8Array(protoTypes.messages.Message.encode({ payload: Buffer.from('abc') }));
    const back = protoTypes.messages.Message.decode(bytes);
    expect(Buffer.isBuffer(back.payload)).toBe(true);
    expect(back.payload.toString()).toBe('abc');
  });
});

describe('invalid input', () => {
  it('decoding garbage throws INVAILD_ARGUMENT naming the type', () => {
    expectInvalidArgument(() => decodeProto('milvus.proto.messages.Message', hex('0aff')), 'milvus.proto.messages.Message');
    expectInvalidArgument(
      () => protoTypes.streaming.CreateProducerRequest.decode(hex('0a05 0a')),
      'milvus.proto.streaming.CreateProducerRequest',
    );
    expectInvalidArgument(() => decodeProto('milvus.proto.common.MessageID', hex('0f')), 'milvus.proto.common.MessageID');
  });

  it('decoding a non-buffer throws INVAILD_ARGUMENT', () => {
    expectInvalidArgument(
      () => decodeProto('milvus.proto.common.MessageID', 'abc' as unknown as Uint8Array),
      'milvus.proto.common.MessageID',
    );
  });

  it('an unknown type name throws INVAILD_ARGUMENT', () => {
    expectInvalidArgument(() => encodeProto('milvus.proto.streaming.NoSuchThing', {}), 'NoSuchThing');
    expect(hasProtoType('milvus.proto.streaming.NoSuchThing')).toBe(false);
    expect(hasProtoType('milvus.proto.streaming.PChannelMeta')).toBe(true);
    // Short names are not resolved by suffix.
    expect(hasProtoType('MessageID')).toBe(false);
  });

  it('encoding a value of the wrong shape throws INVAILD_ARGUMENT naming the type', () => {
    expectInvalidArgument(
      () => encodeProto('milvus.proto.streaming.PChannelMeta', { channel: 'not-an-object' }),
      'milvus.proto.streaming.PChannelMeta',
    );
  });
});

describe('base64 forms', () => {
  it('round-trip with standard padded base64', () => {
    const text = encodeProtoBase64('milvus.proto.streaming.CreateProducerRequest', {
      pchannel: { name: 'by-dev-rootcoord-dml_3', term: 4n },
    });
    expect(text).toBe(Buffer.from(text, 'base64').toString('base64'));
    const back = decodeProtoBase64<{ pchannel: { name: string; term: string } }>(
      'milvus.proto.streaming.CreateProducerRequest',
      text,
    );
    expect(back.pchannel).toMatchObject({ name: 'by-dev-rootcoord-dml_3', term: '4' });
  });

  it('reject non-base64, unpadded and url-safe text', () => {
    const type = 'milvus.proto.messages.TxnContext';
    for (const bad of ['CAU', 'CA$=', 'CA-_', 'CAUQ AQ==', 'not base64!']) {
      expectInvalidArgument(() => decodeProtoBase64(type, bad), type);
    }
    expect(decodeProtoBase64(type, '')).toEqual({ txn_id: '0', keepalive_milliseconds: '0' });
  });
});

describe('google.protobuf.Any', () => {
  it('packs with a type.googleapis.com URL and unpacks by URL or expected type', () => {
    const any = encodeAny('milvus.proto.streaming.StreamingError', { code: 'STREAMING_CODE_ON_SHUTDOWN', cause: 'bye' });
    expect(any.type_url).toBe('type.googleapis.com/milvus.proto.streaming.StreamingError');
    expect(typeUrlOf('milvus.proto.messages.ManualFlushExtraResponse')).toBe(
      'type.googleapis.com/milvus.proto.messages.ManualFlushExtraResponse',
    );
    const expected = { code: 'STREAMING_CODE_ON_SHUTDOWN', cause: 'bye' };
    expect(decodeAny(any)).toEqual(expected);
    expect(decodeAny(any, 'milvus.proto.streaming.StreamingError')).toEqual(expected);
    expect(protoTypes.streaming.StreamingError.fromAny(any)).toEqual(expected);
  });

  it('rejects an Any of another or unknown type', () => {
    const any = protoTypes.messages.ManualFlushExtraResponse.toAny({ segment_ids: [1n] });
    expectInvalidArgument(() => protoTypes.streaming.StreamingError.fromAny(any), 'google.protobuf.Any');
    expectInvalidArgument(() => decodeAny({ type_url: 'type.googleapis.com/x.Y', value: Buffer.alloc(0) }), 'x.Y');
    expectInvalidArgument(() => decodeAny({ type_url: '', value: Buffer.alloc(0) }), 'type_url');
  });

  it('nests inside google.rpc.Status as in grpc-status-details-bin', () => {
    const detail = encodeAny('milvus.proto.streaming.StreamingError', { code: 2, cause: 'fenced' });
    const status = protoTypes.rpc.Status.encode({ code: 9, message: 'fenced', details: [detail] });
    const back = protoTypes.rpc.Status.decode(status);
    expect(back.code).toBe(9);
    expect(back.details).toHaveLength(1);
    expect(decodeAny(back.details[0]!, 'milvus.proto.streaming.StreamingError')).toEqual({
      code: 'STREAMING_CODE_CHANNEL_FENCED',
      cause: 'fenced',
    });
  });
});

describe('protoTypes', () => {
  it('has a codec for every message of every package, and none for enums', () => {
    expect(protoTypes.ext.VChannelCatalogMeta.typeName).toBe('streamingwal.v1.VChannelCatalogMeta');
    expect(protoTypes.msg.TimeTickMsg.typeName).toBe('milvus.proto.msg.TimeTickMsg');
    expect(protoTypes.milvus.ComponentStates.typeName).toBe('milvus.proto.milvus.ComponentStates');
    expect(Object.keys(protoTypes.streaming)).not.toContain('StreamingCode');
    expect(Object.keys(protoTypes.messages)).toContain('TxnContext');
    expect(protoTypes.streaming).toBe(protoTypes.streaming);
    expect(protoType('.milvus.proto.streaming.PChannelMeta')).toBe(protoType('milvus.proto.streaming.PChannelMeta'));
  });
});
