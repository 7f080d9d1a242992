/**
 * Edges of the Produce stream: the metadata handshake, tolerant request decoding, the message
 * checks of a produce request, append results as proto, and the limits.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  appendResultToProto,
  isUndecodableFrame,
  produceAnswer,
  producedMessage,
  readConsumerHandshake,
  readProducerHandshake,
  resolveHandlerLimits,
  withTolerantRequestDecoding,
} from '../../../../../node/service/produce/index.js';
import {
  encodeProtoBase64,
  MessageId,
  MessageType,
  newUserMessage,
  pchannelInfo,
  pchannelInfoToProto,
  serviceDefinitions,
  StreamingCode,
  StreamingError,
  txnContext,
} from '../../../../../shared/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof StreamingError ? StreamingCode[e.code] ?? 'UNKNOWN' : `not a StreamingError: ${String(e)}`;
  }
  return 'no error';
}

describe('handshake', () => {
  const channel = pchannelInfo('p-rootcoord-dml_1', 4n);

  it('reads the pchannel and extension fields', () => {
    const metadata = new grpc.Metadata();
    metadata.set('create-producer', encodeProtoBase64('milvus.proto.streaming.CreateProducerRequest', { pchannel: pchannelInfoToProto(channel), enable_batch: true }));
    metadata.set('create-consumer', encodeProtoBase64('milvus.proto.streaming.CreateConsumerRequest', { pchannel: pchannelInfoToProto(channel), max_batch_messages: 64 }));
    const producer = readProducerHandshake(metadata);
    expect(producer.channel).toEqual(channel);
    expect(producer.request.enable_batch).toBe(true);
    const consumer = readConsumerHandshake(metadata);
    expect(consumer.request.max_batch_messages).toBe(64);
  });

  it('refuses a missing key, bad base64, bad bytes and a missing pchannel with INVAILD_ARGUMENT', () => {
    const with_ = (value: string | undefined): grpc.Metadata => {
      const m = new grpc.Metadata();
      if (value !== undefined) m.set('create-producer', value);
      return m;
    };
    expect(codeOf(() => readProducerHandshake(with_(undefined)))).toBe('INVAILD_ARGUMENT');
    expect(codeOf(() => readProducerHandshake(with_('%%%')))).toBe('INVAILD_ARGUMENT');
    expect(codeOf(() => readProducerHandshake(with_(Buffer.from([0x0a, 0xff]).toString('base64'))))).toBe('INVAILD_ARGUMENT');
    expect(codeOf(() => readProducerHandshake(with_('')))).toBe('INVAILD_ARGUMENT');
  });
});

describe('tolerant request decoding', () => {
  const definition = withTolerantRequestDecoding(serviceDefinitions().streamingNodeHandler);

  it('turns an undecodable stream frame into a value naming the method', () => {
    const frame = definition.Produce?.requestDeserialize(Buffer.from([0x0a, 0xff, 0x01]));
    expect(isUndecodableFrame(frame)).toBe(true);
    if (isUndecodableFrame(frame)) expect(frame.toStreamingError().causeText).toContain('Produce request frame');
  });

  it('decodes valid frames as before, and leaves unary methods alone', () => {
    const plain = serviceDefinitions().streamingNodeHandler;
    const bytes = plain.Produce.requestSerialize({ close: {} });
    expect(definition.Produce?.requestDeserialize(bytes)).toEqual(plain.Produce.requestDeserialize(bytes));
    expect(definition.GetReplicateCheckpoint).toBe(plain.GetReplicateCheckpoint);
  });
});

describe('produce frames', () => {
  const vchannel = 'p-rootcoord-dml_1_5v0';
  const good = newUserMessage({ type: MessageType.Insert, vchannel, payload: Buffer.alloc(10) }).toProto();

  it('checks presence, size and properties of a produced message', () => {
    expect(producedMessage({ request_id: '1', message: good }, 1024).vchannel).toBe(vchannel);
    expect(codeOf(() => producedMessage({ request_id: '1', message: null }, 1024))).toBe('INVAILD_ARGUMENT');
    expect(codeOf(() => producedMessage({ request_id: '1', message: good }, 12))).toBe('INVAILD_ARGUMENT');
    expect(codeOf(() => producedMessage({ request_id: '1', message: { ...good, properties: { ...good.properties, _wt: '1' } } }, 1024))).toBe('INVAILD_ARGUMENT');
  });

  it('writes 64-bit values as decimal strings and the txn context only when there is one', () => {
    const id = MessageId.of(70n);
    const plain = appendResultToProto({ messageId: id, lastConfirmedMessageId: MessageId.of(60n), timeTick: 470630270136221696n });
    expect(plain).toEqual({ id: id.toProto(), timetick: '470630270136221696', last_confirmed_id: MessageId.of(60n).toProto() });
    const inTxn = appendResultToProto({ messageId: id, lastConfirmedMessageId: id, timeTick: 5n, txnContext: txnContext(9n, 1000n) });
    expect(inTxn.txnContext).toEqual({ txn_id: '9', keepalive_milliseconds: '1000' });
    expect(produceAnswer('12', { error: StreamingError.transactionExpired('txn 9') })).toEqual({
      request_id: '12',
      error: { code: 'STREAMING_CODE_TRANSACTION_EXPIRED', cause: 'txn 9' },
    });
  });
});

describe('handler limits', () => {
  it('defaults, and the batch bound follows the in-flight bound', () => {
    expect(resolveHandlerLimits()).toMatchObject({ maxInFlightAppends: 1024, maxProduceBatchMessages: 1024 });
    expect(resolveHandlerLimits({ maxInFlightAppends: 8 }).maxProduceBatchMessages).toBe(8);
  });

  it('refuses nonsense at startup', () => {
    expect(() => resolveHandlerLimits({ maxInFlightAppends: 0 })).toThrow(RangeError);
    expect(() => resolveHandlerLimits({ maxMessageBytes: 1.5 })).toThrow(RangeError);
    expect(() => resolveHandlerLimits({ maxInFlightAppends: 4, maxProduceBatchMessages: 5 })).toThrow(RangeError);
  });
});
