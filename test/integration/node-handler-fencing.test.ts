/**
 * Streams whose WAL goes away: a Remove, an Assign of a higher term on the same node, another node
 * taking the pchannel over (fencing through the storage), and the service stopping. Producers and
 * consumers end with the WAL's code (ON_SHUTDOWN or CHANNEL_FENCED), accepted appends are answered
 * before the status, and streams of other pchannels carry on.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pchannelInfo, StreamingCode, streamingErrorFromProto, waitFor } from '../../shared/index.js';
import {
  type CallEnd,
  consumer,
  consumeData,
  HandlerFixture,
  insert,
  produceEach,
  produceFrame,
  producer,
  type ProduceResponse,
  seqs,
} from './node-handler-fixture.js';

let fx: HandlerFixture;
beforeEach(async () => {
  fx = await HandlerFixture.start();
});
afterEach(async () => {
  await fx?.close();
});

function expectEnd(end: CallEnd, code: StreamingCode): void {
  expect({ code: end.error === undefined ? 'OK' : StreamingCode[end.error.code], grpc: end.code }).toEqual({
    code: StreamingCode[code],
    grpc: grpc.status.FAILED_PRECONDITION,
  });
}

/** Every answered request id appears once, and only ids that were sent. */
function expectAnsweredOnce(frames: readonly ProduceResponse[], sent: number): ProduceResponse[] {
  const answers = frames.filter((f) => f.response === 'produce');
  const ids = answers.map((f) => Number(f.produce?.request_id));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.every((id) => id >= 0 && id < sent)).toBe(true);
  return answers;
}

/** A producer and consumer on their own pchannel that must keep working through it all. */
async function bystander(): Promise<() => Promise<void>> {
  const { channel, v1 } = await fx.openChannel();
  const p = producer(fx.newClient(), channel);
  await p.next();
  const c = consumer(fx.newClient(), channel);
  c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
  let n = 0;
  return async () => {
    n += 1;
    await produceEach(p, [insert(v1, `bystander-${n}`)]);
    expect(seqs(await consumeData(c, n)).at(-1)).toBe(`bystander-${n}`);
  };
}

describe('WAL leaving under live streams', () => {
  it('Remove ends producers and consumers with ON_SHUTDOWN after answering accepted appends', async () => {
    const healthy = await bystander();
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    await produceEach(p, [insert(v1, 'before')]);
    const c = consumer(fx.client, channel);
    c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    expect(seqs(await consumeData(c, 1))).toEqual(['before']);

    for (let i = 0; i < 50; i++) p.send(produceFrame(100 + i, insert(v1, i)));
    await fx.manager.remove(channel);
    const [pEnd, cEnd] = await Promise.all([p.ended, c.ended]);
    expectEnd(pEnd, StreamingCode.ON_SHUTDOWN);
    expectEnd(cEnd, StreamingCode.ON_SHUTDOWN);
    const answers = p.received.slice(2).filter((f) => f.response === 'produce');
    const ids = answers.map((f) => Number(f.produce?.request_id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(p.received.some((f) => f.response === 'close')).toBe(false);

    // The pchannel is gone from this node now.
    const late = producer(fx.client, channel);
    const lateEnd = await late.ended;
    expect(lateEnd.error?.code).toBe(StreamingCode.CHANNEL_NOT_EXIST);
    expect(late.received).toEqual([]);
    await healthy();
  });

  it('an Assign of a higher term ends the old term streams; the new term serves, the old one is refused', async () => {
    const healthy = await bystander();
    const { channel, v1 } = await fx.openChannel(1n);
    const p = producer(fx.client, channel);
    await p.next();
    await produceEach(p, [insert(v1, 't1')]);
    const c = consumer(fx.client, channel);
    c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    await consumeData(c, 1);

    const next = pchannelInfo(channel.name, 2n);
    await fx.manager.open(next);
    expectEnd(await p.ended, StreamingCode.ON_SHUTDOWN);
    expectEnd(await c.ended, StreamingCode.ON_SHUTDOWN);

    const stale = producer(fx.client, channel);
    expect((await stale.ended).error?.code).toBe(StreamingCode.UNMATCHED_CHANNEL_TERM);
    const fresh = producer(fx.client, next);
    await fresh.next();
    await produceEach(fresh, [insert(v1, 't2')]);
    const reader = consumer(fx.client, next);
    reader.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    expect(seqs(await consumeData(reader, 2))).toEqual(['t1', 't2']);
    await healthy();
  });

  it('another node taking the pchannel over fences the old streams with CHANNEL_FENCED', async () => {
    const healthy = await bystander();
    const { channel, v1 } = await fx.openChannel(1n);
    const p = producer(fx.client, channel);
    await p.next();
    await produceEach(p, [insert(v1, 'old-owner')]);
    const c = consumer(fx.client, channel);
    c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    await consumeData(c, 1);

    await fx.otherManager().open(pchannelInfo(channel.name, 2n));
    // The old WAL notices at its next write (an append or its idle time tick).
    for (let i = 0; i < 20; i++) p.send(produceFrame(i, insert(v1, `late-${i}`)));
    const [pEnd, cEnd] = await Promise.all([p.ended, c.ended]);
    expectEnd(pEnd, StreamingCode.CHANNEL_FENCED);
    expectEnd(cEnd, StreamingCode.CHANNEL_FENCED);
    // Whatever was accepted before the end was answered once; a fenced append never reports success.
    for (const a of expectAnsweredOnce(p.received.slice(2), 20)) {
      if (a.produce?.error) expect(streamingErrorFromProto(a.produce.error).code).toBe(StreamingCode.CHANNEL_FENCED);
    }
    await healthy();
  });

  it('the service stopping ends every stream with ON_SHUTDOWN and refuses new ones', async () => {
    const { channel, v1 } = await fx.openChannel();
    const p = producer(fx.client, channel);
    await p.next();
    const c = consumer(fx.client, channel);
    c.send({ create_vchannel_consumer: { vchannel: v1, deliver_policy: { all: {} } } });
    await waitFor(() => c.received.length >= 2);
    await fx.service.close();
    expectEnd(await p.ended, StreamingCode.ON_SHUTDOWN);
    expectEnd(await c.ended, StreamingCode.ON_SHUTDOWN);
    const refused = producer(fx.client, channel);
    expectEnd(await refused.ended, StreamingCode.ON_SHUTDOWN);
    expect(refused.received).toEqual([]);
    expect(fx.service.stats()).toEqual([]);
  });
});
