/**
 * StreamingNodeHandlerService.Consume over a real grpc-js server and raw client calls: every
 * deliver policy and filter reads exactly the right messages of one vchannel in order, a
 * transaction arrives flattened, the vchannel consumer handshake (in-band errors, close_vchannel,
 * re-create), the batching extension, and a consumer that never reads holding the server's memory
 * bounded while producing goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MessageType,
  newBeginTxnMessage,
  newCommitTxnMessage,
  type PChannelInfo,
  StreamingCode,
  streamingErrorFromProto,
  txnContextFromProto,
  waitFor,
} from '../../shared/index.js';
import {
  type Acked,
  consumer,
  consumeData,
  type ConsumeRequest,
  type ConsumeResponse,
  dataMessages,
  type DeliverFilterProto,
  type DeliverPolicyProto,
  HandlerFixture,
  insert,
  produceEach,
  produceFrame,
  producer,
  type Probe,
  type ProduceRequest,
  type ProduceResponse,
  seqs,
} from './node-handler-fixture.js';

let fx: HandlerFixture;
beforeAll(async () => {
  fx = await HandlerFixture.start({ limits: { maxConsumeBatchMessages: 32 } });
});
afterAll(async () => {
  await fx?.close();
});

/** Opens a consumer on `vchannel` and checks the create_vchannel answer. */
async function readVChannel(
  channel: PChannelInfo,
  vchannel: string,
  policy: DeliverPolicyProto,
  filters: DeliverFilterProto[] = [],
  options: { maxBatchMessages?: number; vchannelMaxBatch?: number } = {},
): Promise<Probe<ConsumeRequest, ConsumeResponse>> {
  const c = consumer(fx.client, channel, { maxBatchMessages: options.maxBatchMessages ?? 0 });
  const created = await c.next();
  expect(created.create?.consumer_server_id).toBe('42');
  expect(created.create?.batch_enabled).toBe(true);
  c.send({ create_vchannel_consumer: { vchannel, deliver_policy: policy, deliver_filters: filters, max_batch_messages: options.vchannelMaxBatch ?? 0 } });
  const answer = await c.next();
  expect(answer.create_vchannel?.consumer_id).toBe('1');
  return c;
}

async function closeConsumer(c: Probe<ConsumeRequest, ConsumeResponse>): Promise<void> {
  c.send({ close: {} });
  c.end();
  const end = await c.ended;
  expect(end.code).toBe(0);
  expect(c.received.at(-1)?.response).toBe('close');
}

describe('Consume deliver policies and filters', () => {
  let channel: PChannelInfo;
  let v1: string;
  let acked: Acked[];
  let p: Probe<ProduceRequest, ProduceResponse>;

  beforeAll(async () => {
    const opened = await fx.openChannel();
    channel = opened.channel;
    v1 = opened.v1;
    p = producer(fx.client, channel);
    await p.next();
    // Seqs 0..9 alternate between the two vchannels: v1 holds the even ones.
    acked = await produceEach(p, Array.from({ length: 10 }, (_, i) => insert(i % 2 === 0 ? opened.v1 : opened.v2, i)));
  });

  const at = (seq: number): Acked => acked[seq] as Acked;

  /** The first data of `c` must be `expected`, then nothing but the sentinel produced afterwards. */
  async function expectExactly(c: Probe<ConsumeRequest, ConsumeResponse>, expected: string[], sentinel: string): Promise<void> {
    await produceEach(p, [insert(v1, sentinel)]);
    const data = await consumeData(c, expected.length + 1);
    expect(seqs(data)).toEqual([...expected, sentinel]);
    await closeConsumer(c);
  }

  it('all', async () => {
    await expectExactly(await readVChannel(channel, v1, { all: {} }), ['0', '2', '4', '6', '8'], 'end-all');
  });

  it('start_from (inclusive) and start_after (exclusive)', async () => {
    const from = await readVChannel(channel, v1, { start_from: at(4).id });
    const data = await consumeData(from, 3);
    expect(seqs(data).slice(0, 3)).toEqual(['4', '6', '8']);
    await closeConsumer(from);
    const after = await readVChannel(channel, v1, { start_after: at(4).id });
    const rest = await consumeData(after, 2);
    expect(seqs(rest).slice(0, 2)).toEqual(['6', '8']);
    await closeConsumer(after);
  });

  it('latest delivers only what is appended after the consumer was created', async () => {
    const c = await readVChannel(channel, v1, { latest: {} });
    await expectExactly(c, [], 'end-latest');
  });

  it('time tick filters (gt, gte) on top of a policy', async () => {
    const gt = await readVChannel(channel, v1, { all: {} }, [{ time_tick_gt: { time_tick: at(4).timeTick.toString() } }]);
    expect(seqs(await consumeData(gt, 2)).slice(0, 2)).toEqual(['6', '8']);
    await closeConsumer(gt);
    const gte = await readVChannel(channel, v1, { start_from: at(2).id }, [{ time_tick_gte: { time_tick: at(4).timeTick.toString() } }]);
    expect(seqs(await consumeData(gte, 3)).slice(0, 3)).toEqual(['4', '6', '8']);
    await closeConsumer(gte);
  });

  it('message type filter keeps only the asked types (time ticks still flow)', async () => {
    const c = await readVChannel(channel, v1, { all: {} }, [{ message_type: { message_types: ['Delete'] } }]);
    await produceEach(p, [insert(v1, 'ignored')]);
    await waitFor(() => c.received.some((f) => f.consume?.message?.properties._t === '1'), { message: 'a time tick' });
    expect(dataMessages(c.received)).toEqual([]);
    await closeConsumer(c);
  });

  it('an empty vchannel reads every vchannel of the pchannel', async () => {
    const c = await readVChannel(channel, '', { start_from: at(0).id });
    expect(seqs(await consumeData(c, 10)).slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    await closeConsumer(c);
  });
});

describe('Consume stream handshake', () => {
  it('answers a bad policy or foreign vchannel in-band, then serves a good request on the same stream', async () => {
    const { channel, v1 } = await fx.openChannel();
    const c = consumer(fx.client, channel);
    await c.next();
    c.send({ create_vchannel_consumer: { vchannel: v1 } });
    const noPolicy = await c.next();
    expect(streamingErrorFromProto(noPolicy.create_vchannel?.error ?? {}).code).toBe(StreamingCode.INVAILD_ARGUMENT);
    c.send({ create_vchannel_consumer: { vchannel: 'elsewhere-rootcoord-dml_9_1v0', deliver_policy: { all: {} } } });
    const foreign = await c.next();
    expect(streamingErrorFromProto(foreign.create_vchannel?.error ?? {}).code).toBe(StreamingCode.INVAILD_ARGUMENT);
    c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { start_from: { id: 'not base 36!', WAL_name: 'RocksMQ' } } } });
    const badId = await c.next();
    expect(streamingErrorFromProto(badId.create_vchannel?.error ?? {}).code).toBe(StreamingCode.INVAILD_ARGUMENT);
    c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    expect((await c.next()).create_vchannel?.consumer_id).toBe('1');
    const p = producer(fx.client, channel);
    await p.next();
    await produceEach(p, [insert(v1, 'x')]);
    expect(seqs(await consumeData(c, 1))).toEqual(['x']);
    await closeConsumer(c);
  });

  it('close_vchannel stops the consumer (nothing after its answer); a new one can be created; unknown requests are skipped', async () => {
    const { channel, v1, v2 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    await produceEach(p, [insert(v1, 'a1'), insert(v2, 'b1')]);
    const c = await readVChannel(channel, v1, { all: {} });
    expect(seqs(await consumeData(c, 1))).toEqual(['a1']);
    c.send({ create_vchannel_consumer: { vchannel: v2, deliver_policy: { all: {} } } });
    const second = await waitFor(() => c.received.find((f) => f.response === 'create_vchannel' && f.create_vchannel?.error));
    expect(streamingErrorFromProto(second.create_vchannel?.error ?? {}).code).toBe(StreamingCode.INVALID_REQUEST_SEQ);
    c.send({});
    c.send({ create_vchannel_consumers: { create_vchannels: [] } });
    c.send({ close_vchannel: { consumer_id: '1' } });
    const closedAt = await waitFor(() => {
      const i = c.received.findIndex((f) => f.response === 'close_vchannel');
      return i >= 0 ? i + 1 : undefined;
    });
    expect(c.received[closedAt - 1]?.close_vchannel?.consumer_id).toBe('1');
    await produceEach(p, [insert(v1, 'a2')]);
    c.send({ create_vchannel_consumer: { vchannel: v2, deliver_policy: { all: {} } } });
    await waitFor(() => c.received.some((f) => f.create_vchannel?.consumer_id === '2'));
    const after = await waitFor(() => {
      const data = dataMessages(c.received.slice(closedAt));
      return data.length >= 1 ? data : undefined;
    });
    expect(seqs(after)).toEqual(['b1']);
    expect(c.received.slice(closedAt).every((f) => f.consume === undefined || f.consume === null || f.consume.consumer_id === '2')).toBe(true);
    await closeConsumer(c);
  });

  it('a half-close ends the stream with close and OK', async () => {
    const { channel, v1 } = await fx.openChannel();
    const c = await readVChannel(channel, v1, { all: {} });
    c.end();
    expect((await c.ended).code).toBe(0);
    expect(c.received.at(-1)?.response).toBe('close');
  });
});

describe('Consume transactions and batching', () => {
  it('delivers a transaction flattened: BeginTxn, bodies at the commit tick, CommitTxn', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    p.send(produceFrame(1, newBeginTxnMessage({ vchannel: v1, keepaliveMs: 10_000 })));
    const txn = txnContextFromProto((await p.next()).produce?.result?.txnContext ?? {});
    await produceEach(p, [insert(v1, 'body-1').withTxnContext(txn), insert(v1, 'plain'), insert(v1, 'body-2').withTxnContext(txn)]);
    p.send(produceFrame(9, newCommitTxnMessage({ vchannel: v1, txn })));
    const commitTick = (await p.next()).produce?.result?.timetick;

    for (const maxBatchMessages of [0, 3]) {
      const c = await readVChannel(channel, v1, { all: {} }, [], { maxBatchMessages });
      const data = await consumeData(c, 5);
      // The plain message committed first; the transaction comes whole at its commit, its bodies
      // re-stamped with the commit's time tick (so a consumer resuming from any of them skips the txn).
      expect(data.map((m) => m.messageType)).toEqual([MessageType.Insert, MessageType.BeginTxn, MessageType.Insert, MessageType.Insert, MessageType.CommitTxn]);
      expect(seqs(data)).toEqual(['plain', undefined, 'body-1', 'body-2', undefined]);
      for (const m of data.slice(2)) expect(m.timeTick.toString()).toBe(commitTick);
      expect((data[1]?.timeTick ?? 0n) < BigInt(commitTick ?? 0)).toBe(true);
      for (const m of data.slice(1)) expect(m.txnContext?.txnId).toBe(txn.txnId);
      await closeConsumer(c);
    }
  });

  it('consume_batch frames respect the per-vchannel override and the server limit', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel, true);
    await p.next();
    p.send({ produce_batch: { requests: Array.from({ length: 100 }, (_, i) => produceFrame(i, insert(v1, i)).produce ?? {}) } });
    await p.next();
    const expected = Array.from({ length: 100 }, (_, i) => String(i));
    const cases = [
      { options: { maxBatchMessages: 0, vchannelMaxBatch: 4 }, bound: 4 },
      { options: { maxBatchMessages: 1000 }, bound: 32 }, // capped at the server's maxConsumeBatchMessages
    ];
    for (const { options, bound } of cases) {
      const c = await readVChannel(channel, v1, { all: {} }, [], options);
      expect(seqs(await consumeData(c, 100))).toEqual(expected);
      const frames = c.received.filter((f) => f.response === 'consume_batch');
      expect(frames.every((f) => (f.consume_batch?.messages.length ?? 0) <= bound)).toBe(true);
      expect(c.received.some((f) => f.response === 'consume')).toBe(false);
      await closeConsumer(c);
    }
  });
});

describe('Consume backpressure', () => {
  it('a consumer that never reads holds bounded server memory while producing continues', async () => {
    const { channel, v1 } = await fx.openChannel();
    // Reads `create` and `create_vchannel`, then stops reading.
    const slow = consumer(fx.newClient(), channel, { pauseAfter: 2 });
    slow.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    await waitFor(() => slow.received.length >= 2, { message: 'create_vchannel' });
    const stats = () => fx.service.stats().find((s) => s.kind === 'consumer' && s.channel === channel.name && s.consumer !== undefined);
    await waitFor(() => stats(), { message: 'the slow consumer on the server' });

    const p = producer(fx.client, channel, true);
    await p.next();
    const total = 1500;
    const payload = 4096;
    let maxPending = 0;
    let maxQueued = 0;
    for (let b = 0; b < total / 100; b++) {
      p.send({ produce_batch: { requests: Array.from({ length: 100 }, (_, i) => produceFrame(i, insert(v1, b * 100 + i, payload)).produce ?? {}) } });
      const answer = await p.next();
      expect(answer.produce_batch?.responses.every((r) => r.response === 'result')).toBe(true);
      const s = stats();
      if (s?.kind === 'consumer') {
        maxPending = Math.max(maxPending, s.consumer?.scanner?.pending ?? 0);
        maxQueued = Math.max(maxQueued, s.writer.queued);
      }
    }
    // Producing went on to the end; the server stopped sending and waits for 'drain'.
    await waitFor(() => {
      const s = stats();
      return s?.kind === 'consumer' && s.writer.waitingForDrain;
    }, { message: 'the consumer waiting for drain' });
    const stuck = stats();
    if (stuck?.kind !== 'consumer') throw new Error('consumer stats missing');
    const sent = stuck.consumer?.messages ?? 0;
    // Bounded by the client's HTTP/2 window and the small buffers on the way, not by what exists.
    expect(sent).toBeLessThan(200);
    expect(maxPending).toBeLessThanOrEqual(16);
    expect(maxQueued).toBeLessThanOrEqual(17);
    expect(stuck.consumer?.scanner?.pending ?? 0).toBeLessThanOrEqual(16);
    expect(stuck.consumer?.scanner?.backendBuffered ?? 0).toBeLessThanOrEqual(128);

    // Once the client reads, everything arrives, in order, exactly once.
    slow.call.resume();
    const data = await consumeData(slow, total, 60_000);
    expect(seqs(data)).toEqual(Array.from({ length: total }, (_, i) => String(i)));
    await closeConsumer(slow);
  }, 90_000);
});
