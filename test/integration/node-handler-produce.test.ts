/**
 * StreamingNodeHandlerService.Produce over a real grpc-js server and raw client calls: the create
 * frame, request ids echoed under concurrency, per-message errors in-band with the stream staying
 * open, the close handshake draining in-flight appends, the batching extension next to an
 * unbatched client, and a transaction produced step by step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  marshalMessageType,
  MessageType,
  MutableMessage,
  newBeginTxnMessage,
  newCommitTxnMessage,
  StreamingCode,
  streamingErrorFromProto,
  txnContextFromProto,
} from '../../shared/index.js';
import {
  consumer,
  consumeData,
  HandlerFixture,
  insert,
  produceFrame,
  producer,
  type ProduceResponse,
  seqs,
} from './node-handler-fixture.js';

const MAX_MESSAGE_BYTES = 16 * 1024;

let fx: HandlerFixture;
beforeAll(async () => {
  fx = await HandlerFixture.start({ limits: { maxMessageBytes: MAX_MESSAGE_BYTES, maxInFlightAppends: 64, maxProduceBatchMessages: 32 } });
});
afterAll(async () => {
  await fx?.close();
});

/** The in-band error code name of an answer, or 'OK' for a result. */
function outcome(answer: ProduceResponse['produce']): string {
  if (answer?.error) return StreamingCode[streamingErrorFromProto(answer.error).code] ?? 'UNKNOWN';
  return answer?.result ? 'OK' : 'none';
}

/** A raw message with exactly these properties. */
function raw(properties: Record<string, string>, payload = Buffer.from('x')): MutableMessage {
  return MutableMessage.create(payload, properties);
}

describe('Produce', () => {
  it('answers create first, then every request once, under concurrency and any order', async () => {
    const { channel, v1, v2 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    const created = await p.next();
    expect(created.response).toBe('create');
    expect(created.create?.producer_server_id).toBe('42');
    expect(created.create?.batch_enabled).toBe(false);

    const count = 200;
    for (let i = 0; i < count; i++) p.send(produceFrame(1000 + i, insert(i % 2 === 0 ? v1 : v2, i)));
    const answers = await p.take(count);
    expect(answers.every((a) => a.response === 'produce' && a.produce?.response === 'result')).toBe(true);
    const ids = answers.map((a) => a.produce?.request_id).sort();
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => String(1000 + i)).sort());
    // Every result is a distinct WAL position with a time tick and a last confirmed id.
    const messageIds = new Set(answers.map((a) => a.produce?.result?.id?.id));
    expect(messageIds.size).toBe(count);
    for (const a of answers) {
      expect(BigInt(a.produce?.result?.timetick ?? '0')).toBeGreaterThan(0n);
      expect(a.produce?.result?.last_confirmed_id?.WAL_name).toBe('RocksMQ');
    }

    // What was acknowledged is what a consumer of v1 reads, in time tick order.
    const expected = answers
      .filter((a) => Number(a.produce?.request_id) % 2 === 0)
      .sort((a, b) => (BigInt(a.produce?.result?.timetick ?? 0) < BigInt(b.produce?.result?.timetick ?? 0) ? -1 : 1))
      .map((a) => String(Number(a.produce?.request_id) - 1000));
    const c = consumer(fx.client, channel);
    c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    expect(seqs(await consumeData(c, count / 2))).toEqual(expected);
    c.send({ close: {} });
    p.send({ close: {} });
    expect((await c.ended).code).toBe(0);
    expect((await p.ended).code).toBe(0);
  });

  it('answers bad messages in-band and keeps the stream open', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    const good = insert(v1, 'good').properties;
    const cases: Array<[string, MutableMessage, string]> = [
      ['unknown _t', raw({ ...good, _t: 'zzzz' }), 'INVAILD_ARGUMENT'],
      ['missing _t', raw({ _vc: v1 }), 'INVAILD_ARGUMENT'],
      ['user _tt', raw({ ...good, _tt: '1' }), 'INVAILD_ARGUMENT'],
      ['user _lc', raw({ ...good, _lc: '1' }), 'INVAILD_ARGUMENT'],
      ['reserved user key', raw({ ...good, _mine: 'x' }), 'INVAILD_ARGUMENT'],
      ['generated type', raw({ ...good, _t: marshalMessageType(MessageType.TimeTick) }), 'INVAILD_ARGUMENT'],
      ['oversized', insert(v1, 'big', MAX_MESSAGE_BYTES + 1), 'INVAILD_ARGUMENT'],
      ['foreign vchannel', insert('other-rootcoord-dml_3_1v0', 'x'), 'INVAILD_ARGUMENT'],
      ['body of an unknown txn', insert(v1, 'orphan').withTxnContext({ txnId: 987654321n, keepaliveMs: 10_000n }), 'TRANSACTION_EXPIRED'],
    ];
    cases.forEach(([, message], i) => p.send(produceFrame(i, message)));
    p.send({ produce: { request_id: '100', message: null } });
    p.send(produceFrame(101, insert(v1, 'after')));
    const answers = await p.take(cases.length + 2);
    const byId = new Map(answers.map((a) => [a.produce?.request_id, a.produce]));
    cases.forEach(([name, , code], i) => expect(`${name}: ${outcome(byId.get(String(i)))}`).toBe(`${name}: ${code}`));
    expect(outcome(byId.get('100'))).toBe('INVAILD_ARGUMENT');
    expect(byId.get('100')?.error?.cause).toContain('message');
    expect(outcome(byId.get('101'))).toBe('OK');
    p.send({ close: {} });
    expect((await p.ended).code).toBe(0);
  });

  it('close drains the appends in flight before the close frame and status OK', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    for (let i = 0; i < 300; i++) p.send(produceFrame(i, insert(v1, i)));
    p.send({ close: {} });
    p.end();
    const end = await p.ended;
    expect(end.code).toBe(0);
    const frames = p.received.slice(1);
    expect(frames.at(-1)?.response).toBe('close');
    const answered = frames.filter((f) => f.response === 'produce');
    expect(answered).toHaveLength(300);
    expect(answered.every((f) => f.produce?.response === 'result')).toBe(true);
  });

  it('half-close without close also drains and ends OK', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    for (let i = 0; i < 20; i++) p.send(produceFrame(i, insert(v1, i)));
    p.end();
    expect((await p.ended).code).toBe(0);
    expect(p.received.filter((f) => f.response === 'produce')).toHaveLength(20);
    expect(p.received.at(-1)?.response).toBe('close');
  });

  it('skips an empty request (Milvus forward compatibility) and goes on', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    p.send({});
    p.send(produceFrame(7, insert(v1, 7)));
    const answer = await p.next();
    expect(answer.produce?.request_id).toBe('7');
    expect(outcome(answer.produce)).toBe('OK');
    p.send({ close: {} });
    expect((await p.ended).code).toBe(0);
  });

  it('produces a transaction step by step: BeginTxn answers its txn context', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    p.send(produceFrame(1, newBeginTxnMessage({ vchannel: v1, keepaliveMs: 10_000 })));
    const begin = await p.next();
    const txnProto = begin.produce?.result?.txnContext;
    expect(txnProto).toBeTruthy();
    const txn = txnContextFromProto(txnProto ?? {});
    expect(txn.txnId).toBeGreaterThan(0n);
    p.send(produceFrame(2, insert(v1, 'b1').withTxnContext(txn)));
    p.send(produceFrame(3, insert(v1, 'b2').withTxnContext(txn)));
    const bodies = await p.take(2);
    expect(bodies.map((b) => outcome(b.produce))).toEqual(['OK', 'OK']);
    p.send(produceFrame(4, newCommitTxnMessage({ vchannel: v1, txn })));
    const commit = await p.next();
    expect(outcome(commit.produce)).toBe('OK');
    expect(txnContextFromProto(commit.produce?.result?.txnContext ?? {}).txnId).toBe(txn.txnId);
    p.send({ close: {} });
    expect((await p.ended).code).toBe(0);
  });
});

describe('Produce batching extension', () => {
  it('answers a produce_batch with one frame, results in request order', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel, true);
    expect((await p.next()).create?.batch_enabled).toBe(true);
    const requests = Array.from({ length: 25 }, (_, i) => produceFrame(500 + i, insert(v1, i)).produce ?? {});
    p.send({ produce_batch: { requests } });
    p.send(produceFrame(9, insert(v1, 'single'))); // single frames still work on a batched stream
    const frames = await p.take(2);
    const batch = frames.find((f) => f.response === 'produce_batch');
    expect(batch?.produce_batch?.responses.map((r) => r.request_id)).toEqual(requests.map((r) => String(r.request_id)));
    expect(batch?.produce_batch?.responses.every((r) => r.response === 'result')).toBe(true);
    expect(frames.find((f) => f.response === 'produce')?.produce?.request_id).toBe('9');

    // One bad message in a batch fails alone.
    p.send({ produce_batch: { requests: [produceFrame(1, insert(v1, 'ok')).produce ?? {}, produceFrame(2, raw({ _vc: v1 })).produce ?? {}] } });
    const mixed = (await p.next()).produce_batch?.responses ?? [];
    expect(mixed.map((r) => r.response)).toEqual(['result', 'error']);

    // Above the per-batch limit: every request answered in-band, nothing appended.
    const tooMany = Array.from({ length: 33 }, (_, i) => produceFrame(i, insert(v1, i)).produce ?? {});
    p.send({ produce_batch: { requests: tooMany } });
    const refused = (await p.next()).produce_batch?.responses ?? [];
    expect(refused).toHaveLength(33);
    expect(refused.every((r) => r.error?.code === 'STREAMING_CODE_INVAILD_ARGUMENT')).toBe(true);
    p.send({ close: {} });
    expect((await p.ended).code).toBe(0);
  });

  it('serves batched and unbatched producers and consumers side by side', async () => {
    const { channel, v1 } = await fx.openChannel();
    const batched = producer(fx.client, channel, true);
    const plain = producer(fx.newClient(), channel);
    await Promise.all([batched.next(), plain.next()]);
    batched.send({ produce_batch: { requests: Array.from({ length: 30 }, (_, i) => produceFrame(i, insert(v1, `b${i}`)).produce ?? {}) } });
    await batched.next();
    for (let i = 0; i < 30; i++) plain.send(produceFrame(i, insert(v1, `p${i}`)));
    const plainAnswers = await plain.take(30);
    expect(plainAnswers.every((a) => a.response === 'produce')).toBe(true);

    const batchedConsumer = consumer(fx.client, channel, { maxBatchMessages: 8 });
    const plainConsumer = consumer(fx.newClient(), channel);
    for (const c of [batchedConsumer, plainConsumer]) c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    const [fromBatched, fromPlain] = await Promise.all([consumeData(batchedConsumer, 60), consumeData(plainConsumer, 60)]);
    expect(seqs(fromBatched)).toEqual(seqs(fromPlain));
    expect(seqs(fromBatched).slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, i) => `b${i}`));
    const batchFrames = batchedConsumer.received.filter((f) => f.response === 'consume_batch');
    expect(batchFrames.length).toBeGreaterThan(0);
    expect(batchFrames.every((f) => (f.consume_batch?.messages.length ?? 0) <= 8 && f.consume_batch?.consumer_id === '1')).toBe(true);
    expect(batchedConsumer.received.some((f) => f.response === 'consume')).toBe(false);
    // Batching did group messages somewhere: fewer frames than messages.
    expect(batchFrames.length).toBeLessThan(batchFrames.reduce((n, f) => n + (f.consume_batch?.messages.length ?? 0), 0));
    expect(plainConsumer.received.some((f) => f.response === 'consume_batch')).toBe(false);
    for (const s of [batched, plain, batchedConsumer, plainConsumer]) s.send({ close: {} });
    for (const s of [batched, plain, batchedConsumer, plainConsumer]) expect((await s.ended).code).toBe(0);
  });
});
