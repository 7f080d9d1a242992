/**
 * Bad input to StreamingNodeHandlerService (DESIGN.md §9.5), one case per test: each gets its
 * Milvus error code on its own stream only (as a status, or in-band where Milvus answers in-band),
 * and a healthy producer / consumer pair on the same server keeps working after every case.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handlerServiceImplementation } from '../../node/service/handler-service.js';
import {
  encodeProtoBase64,
  fromServiceError,
  MutableMessage,
  pchannelInfo,
  pchannelInfoToProto,
  serviceDefinitions,
  StreamingCode,
  streamingErrorFromProto,
} from '../../shared/index.js';
import {
  type CallEnd,
  consumer,
  consumeData,
  type ConsumeRequest,
  type ConsumeResponse,
  HandlerFixture,
  handshakeMetadata,
  insert,
  Probe,
  produceEach,
  produceFrame,
  producer,
  type ProduceRequest,
  type ProduceResponse,
  seqs,
} from './node-handler-fixture.js';

const MAX_MESSAGE_BYTES = 8 * 1024;

let fx: HandlerFixture;
let channel: ReturnType<typeof pchannelInfo>;
let v1: string;
/** The vchannel the bad streams write to; the healthy consumer reads v1 only. */
let v2: string;
let healthyProducer: Probe<ProduceRequest, ProduceResponse>;
let healthyConsumer: Probe<ConsumeRequest, ConsumeResponse>;
let produced = 0;

beforeAll(async () => {
  fx = await HandlerFixture.start({ limits: { maxMessageBytes: MAX_MESSAGE_BYTES } });
  ({ channel, v1, v2 } = await fx.openChannel());
  healthyProducer = producer(fx.newClient(), channel);
  await healthyProducer.next();
  healthyConsumer = consumer(fx.newClient(), channel);
  healthyConsumer.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
});
afterAll(async () => {
  await fx?.close();
});
// The pair on the same server saw nothing of the bad stream.
afterEach(async () => {
  produced += 1;
  await produceEach(healthyProducer, [insert(v1, `healthy-${produced}`)]);
  const data = seqs(await consumeData(healthyConsumer, produced));
  expect(data).toEqual(Array.from({ length: produced }, (_, i) => `healthy-${i + 1}`));
});

function expectStatus(end: CallEnd, code: StreamingCode, grpcCode: grpc.status): void {
  expect({ code: end.error === undefined ? 'OK' : StreamingCode[end.error.code], grpc: grpc.status[end.code] }).toEqual({
    code: StreamingCode[code],
    grpc: grpc.status[grpcCode],
  });
}

const produceWith = (metadata: grpc.Metadata): Probe<ProduceRequest, ProduceResponse> => new Probe(fx.client.Produce(metadata));
const consumeWith = (metadata: grpc.Metadata): Probe<ConsumeRequest, ConsumeResponse> => new Probe(fx.client.Consume(metadata));

describe('handshake', () => {
  it('no create-producer metadata: INVAILD_ARGUMENT before any frame', async () => {
    const p = produceWith(new grpc.Metadata());
    expectStatus(await p.ended, StreamingCode.INVAILD_ARGUMENT, grpc.status.INVALID_ARGUMENT);
    expect(p.received).toEqual([]);
  });

  it('no create-consumer metadata: INVAILD_ARGUMENT before any frame', async () => {
    const c = consumeWith(new grpc.Metadata());
    expectStatus(await c.ended, StreamingCode.INVAILD_ARGUMENT, grpc.status.INVALID_ARGUMENT);
    expect(c.received).toEqual([]);
  });

  it('create-producer that is not base64: INVAILD_ARGUMENT', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('create-producer', 'this is not base64!');
    const end = await produceWith(metadata).ended;
    expectStatus(end, StreamingCode.INVAILD_ARGUMENT, grpc.status.INVALID_ARGUMENT);
    expect(end.error?.causeText).toContain('create-producer');
  });

  it('create-consumer holding bytes that are not a CreateConsumerRequest: INVAILD_ARGUMENT', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('create-consumer', Buffer.from([0x0a, 0xff, 0x01]).toString('base64'));
    const end = await consumeWith(metadata).ended;
    expectStatus(end, StreamingCode.INVAILD_ARGUMENT, grpc.status.INVALID_ARGUMENT);
    expect(end.error?.causeText).toContain('CreateConsumerRequest');
  });

  it('a handshake without pchannel: INVAILD_ARGUMENT', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('create-producer', encodeProtoBase64('milvus.proto.streaming.CreateProducerRequest', {}));
    expectStatus(await produceWith(metadata).ended, StreamingCode.INVAILD_ARGUMENT, grpc.status.INVALID_ARGUMENT);
  });

  it('an unknown pchannel: CHANNEL_NOT_EXIST (producer and consumer)', async () => {
    const unknown = pchannelInfo('nowhere-rootcoord-dml_0', 1n);
    expectStatus(await producer(fx.client, unknown).ended, StreamingCode.CHANNEL_NOT_EXIST, grpc.status.FAILED_PRECONDITION);
    expectStatus(await consumer(fx.client, unknown).ended, StreamingCode.CHANNEL_NOT_EXIST, grpc.status.FAILED_PRECONDITION);
  });

  it('a stale or future term: UNMATCHED_CHANNEL_TERM', async () => {
    const { channel: at2 } = await fx.openChannel(2n);
    for (const term of [1n, 3n]) {
      const wrong = pchannelInfo(at2.name, term);
      expectStatus(await producer(fx.client, wrong).ended, StreamingCode.UNMATCHED_CHANNEL_TERM, grpc.status.FAILED_PRECONDITION);
      expectStatus(await consumer(fx.client, wrong).ended, StreamingCode.UNMATCHED_CHANNEL_TERM, grpc.status.FAILED_PRECONDITION);
    }
  });
});

describe('request sequence', () => {
  for (const [name, first] of [
    ['close_vchannel', { close_vchannel: { consumer_id: '1' } }],
    ['close', { close: {} }],
    ['an empty request', {}],
  ] as const) {
    it(`a consumer whose first request is ${name}: INVALID_REQUEST_SEQ`, async () => {
      const c = consumer(fx.client, channel);
      c.send(first);
      const end = await c.ended;
      expectStatus(end, StreamingCode.INVALID_REQUEST_SEQ, grpc.status.FAILED_PRECONDITION);
      expect(c.received.map((f) => f.response)).toEqual(['create']);
    });
  }

  it('a consumer that half-closes before create_vchannel_consumer: INVALID_REQUEST_SEQ', async () => {
    const c = consumer(fx.client, channel);
    c.end();
    expectStatus(await c.ended, StreamingCode.INVALID_REQUEST_SEQ, grpc.status.FAILED_PRECONDITION);
  });

  it('produce_batch on a producer that did not enable batching: INVALID_REQUEST_SEQ', async () => {
    const p = producer(fx.client, channel);
    await p.next();
    p.send({ produce_batch: { requests: [produceFrame(1, insert(v2, 'x')).produce ?? {}] } });
    expectStatus(await p.ended, StreamingCode.INVALID_REQUEST_SEQ, grpc.status.FAILED_PRECONDITION);
  });

  it('an empty produce request is skipped (as Milvus does) and the stream goes on', async () => {
    const p = producer(fx.client, channel);
    await p.next();
    p.send({});
    p.send(produceFrame(3, insert(v2, 'after-empty')));
    expect((await p.next()).produce?.response).toBe('result');
    p.send({ close: {} });
    expect((await p.ended).code).toBe(grpc.status.OK);
  });
});

describe('bad messages are answered in-band, the stream stays open', () => {
  async function expectInBand(message: MutableMessage, code: StreamingCode): Promise<void> {
    const p = producer(fx.client, channel);
    await p.next();
    p.send(produceFrame(1, message));
    p.send(produceFrame(2, insert(v2, 'next')));
    const answers = await p.take(2);
    const first = answers.find((a) => a.produce?.request_id === '1')?.produce;
    expect(StreamingCode[streamingErrorFromProto(first?.error ?? {}).code]).toBe(StreamingCode[code]);
    expect(answers.find((a) => a.produce?.request_id === '2')?.produce?.response).toBe('result');
    p.send({ close: {} });
    expect((await p.ended).code).toBe(grpc.status.OK);
  }

  it('oversized message', async () => {
    await expectInBand(insert(v2, 'big', MAX_MESSAGE_BYTES), StreamingCode.INVAILD_ARGUMENT);
  });

  it('user property starting with _', async () => {
    await expectInBand(MutableMessage.create(Buffer.from('x'), { ...insert(v2, 1).properties, _secret: 'x' }), StreamingCode.INVAILD_ARGUMENT);
  });

  it('missing _t', async () => {
    const { _t: _dropped, ...rest } = insert(v2, 1).properties;
    await expectInBand(MutableMessage.create(Buffer.from('x'), rest), StreamingCode.INVAILD_ARGUMENT);
  });

  it('user _tt', async () => {
    await expectInBand(MutableMessage.create(Buffer.from('x'), { ...insert(v2, 1).properties, _tt: 'zz' }), StreamingCode.INVAILD_ARGUMENT);
  });
});

describe('frames that do not decode', () => {
  const GARBAGE = Buffer.from([0x0a, 0xff, 0x01]); // field 1, length 255, 1 byte present
  const identity = (b: Buffer): Buffer => b;

  async function sendGarbage(method: 'Produce' | 'Consume', metadata: grpc.Metadata): Promise<{ end: CallEnd; frames: Buffer[] }> {
    const client = fx.newRawClient();
    const call = client.makeBidiStreamRequest<Buffer, Buffer>(`/milvus.proto.streaming.StreamingNodeHandlerService/${method}`, identity, identity, metadata);
    const frames: Buffer[] = [];
    call.on('data', (b: Buffer) => frames.push(b));
    const end = await new Promise<CallEnd>((resolve) => {
      call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, error: fromServiceError(e) }));
      call.on('status', (s: grpc.StatusObject) => {
        if (s.code === grpc.status.OK) resolve({ code: s.code, details: s.details, error: undefined });
      });
      call.write(GARBAGE);
    });
    return { end, frames };
  }

  it('a garbage Produce frame ends that stream with INVAILD_ARGUMENT naming the frame', async () => {
    const { end, frames } = await sendGarbage('Produce', handshakeMetadata('create-producer', { pchannel: pchannelInfoToProto(channel) }));
    expectStatus(end, StreamingCode.INVAILD_ARGUMENT, grpc.status.INVALID_ARGUMENT);
    expect(end.error?.causeText).toContain('Produce request frame');
    expect(frames).toHaveLength(1); // the create frame
  });

  it('a garbage Consume frame ends that stream with INVAILD_ARGUMENT naming the frame', async () => {
    const { end } = await sendGarbage('Consume', handshakeMetadata('create-consumer', { pchannel: pchannelInfoToProto(channel) }));
    expectStatus(end, StreamingCode.INVAILD_ARGUMENT, grpc.status.INVALID_ARGUMENT);
    expect(end.error?.causeText).toContain('Consume request frame');
  });

  it('with the plain definition grpc-js answers INTERNAL itself, and the server stays up', async () => {
    const server = new grpc.Server();
    server.addService(serviceDefinitions().streamingNodeHandler, handlerServiceImplementation({ walManager: fx.manager, serverId: 7n }));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const call = client.makeBidiStreamRequest<Buffer, Buffer>(
        '/milvus.proto.streaming.StreamingNodeHandlerService/Produce',
        identity,
        identity,
        handshakeMetadata('create-producer', { pchannel: pchannelInfoToProto(channel) }),
      );
      const code = await new Promise<grpc.status>((resolve) => {
        call.on('error', (e: grpc.ServiceError) => resolve(e.code));
        call.on('data', () => undefined);
        call.write(GARBAGE);
      });
      expect(grpc.status[code]).toBe('INTERNAL');
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe('other methods', () => {
  it('GetReplicateCheckpoint answers UNIMPLEMENTED with a clear message', async () => {
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      fx.client.GetReplicateCheckpoint({ pchannel: pchannelInfoToProto(channel) }, (e) => resolve(e)),
    );
    expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(error?.details).toContain('replication');
  });
});
