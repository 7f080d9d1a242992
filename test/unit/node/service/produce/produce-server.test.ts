/**
 * The Produce stream against a fake call and a WAL whose appends the test settles by hand: the
 * in-flight bound (the recv arm stops reading), answers in completion order, batches, the close
 * drain, the WAL leaving, a client cancel, and a client that does not read its answers.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  type HandlerLimits,
  resolveHandlerLimits,
  serveProduce,
  type StreamContext,
} from '../../../../../node/service/produce/index.js';
import {
  encodeProtoBase64,
  MessageType,
  newUserMessage,
  noopLogger,
  pchannelInfoToProto,
  StreamingCode,
  StreamingError,
  streamingErrorFromProto,
  waitFor,
} from '../../../../../shared/index.js';
import { appendsStarted, FakeCall, FakeHandlerWal } from './fakes.js';

interface Setup {
  readonly call: FakeCall;
  readonly wal: FakeHandlerWal;
  readonly served: Promise<void>;
  readonly shutdown: AbortController;
}

function start(limits: Partial<HandlerLimits> = {}, enableBatch = false): Setup {
  const wal = new FakeHandlerWal();
  const metadata = new grpc.Metadata();
  metadata.set('create-producer', encodeProtoBase64('milvus.proto.streaming.CreateProducerRequest', { pchannel: pchannelInfoToProto(wal.channel), enable_batch: enableBatch }));
  const call = new FakeCall(metadata);
  const shutdown = new AbortController();
  const context: StreamContext = {
    wals: () => ({ getAvailableWal: () => wal }),
    serverId: () => 9n,
    limits: resolveHandlerLimits(limits),
    logger: noopLogger,
    shutdown: shutdown.signal,
  };
  return { call, wal, shutdown, served: serveProduce(call.asServerStream(), context) };
}

const VCHANNEL = 'fake-rootcoord-dml_0_1v0';
const message = (i: number) => newUserMessage({ type: MessageType.Insert, vchannel: VCHANNEL, payload: Buffer.from([i]) }).toProto();
const produce = (id: number) => ({ request: 'produce', produce: { request_id: String(id), message: message(id) } });

/** Lets pending I/O callbacks and promise chains run (no timer involved). */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

type Answer = { request_id: string; result?: unknown; error?: { code: string; cause: string } };

describe('ProduceServer', () => {
  it('sends create first, with the server id and batch flag', async () => {
    const { call, served } = start({}, true);
    await waitFor(() => call.written.length === 1);
    expect(call.written[0]).toEqual({ create: { wal_name: 'rocksmq', producer_server_id: '9', batch_enabled: true } });
    call.finishRequests();
    await served;
    expect(await call.ended).toEqual({ ok: true });
    expect(call.framesOf('close')).toHaveLength(1);
  });

  it('keeps at most maxInFlightAppends appends running and stops reading at the bound', async () => {
    const { call, wal, served } = start({ maxInFlightAppends: 4 });
    for (let i = 0; i < 10; i++) call.receive(produce(i));
    await appendsStarted(wal, 4);
    await turns();
    expect(wal.appends).toHaveLength(4);
    // The rest waits in the call, unread.
    expect(call.readableLength).toBeGreaterThan(0);
    wal.succeed(2);
    await appendsStarted(wal, 5);
    await turns();
    expect(wal.appends).toHaveLength(5);
    expect(call.framesOf<Answer>('produce').map((a) => a.request_id)).toEqual(['2']);
    for (let i = 0; i < 10; i++) {
      if (i !== 2) {
        await appendsStarted(wal, Math.min(10, i + 1));
        wal.succeed(i);
      }
    }
    call.receive({ request: 'close', close: {} });
    await served;
    const answers = call.framesOf<Answer>('produce');
    expect(answers.map((a) => a.request_id).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(call.written.at(-1)).toEqual({ close: {} });
    expect(await call.ended).toEqual({ ok: true });
  });

  it('answers in completion order', async () => {
    const { call, wal, served } = start();
    for (let i = 0; i < 3; i++) call.receive(produce(i));
    await appendsStarted(wal, 3);
    wal.succeed(2);
    wal.succeed(0);
    wal.succeed(1);
    call.finishRequests();
    await served;
    expect(call.framesOf<Answer>('produce').map((a) => a.request_id)).toEqual(['2', '0', '1']);
  });

  it('a batch takes one permit per message and is answered in one frame, in request order', async () => {
    const { call, wal, served } = start({ maxInFlightAppends: 3 }, true);
    const requests = [0, 1, 2].map((i) => produce(i).produce);
    call.receive({ request: 'produce_batch', produce_batch: { requests } });
    call.receive(produce(7));
    await appendsStarted(wal, 3);
    await turns();
    expect(wal.appends).toHaveLength(3); // the single one waits for a permit
    wal.succeed(2);
    wal.succeed(1);
    await turns();
    expect(wal.appends).toHaveLength(3); // permits come back with the batch's answer only
    wal.succeed(0);
    await appendsStarted(wal, 4);
    wal.succeed(3);
    call.finishRequests();
    await served;
    const [batch] = call.framesOf<{ responses: Answer[] }>('produce_batch');
    expect(batch?.responses.map((r) => r.request_id)).toEqual(['0', '1', '2']);
    expect(call.framesOf<Answer>('produce').map((a) => a.request_id)).toEqual(['7']);
  });

  it('the WAL leaving stops reading, answers what is in flight, then ends with its reason', async () => {
    const { call, wal, served } = start();
    for (let i = 0; i < 3; i++) call.receive(produce(i));
    await appendsStarted(wal, 3);
    wal.succeed(0);
    const fenced = StreamingError.channelFenced(wal.channel.name);
    wal.makeUnavailable(fenced);
    call.receive(produce(99));
    await turns();
    expect(wal.appends).toHaveLength(3);
    wal.appends[1]?.result.reject(fenced);
    wal.appends[2]?.result.reject(fenced);
    await served;
    const answers = call.framesOf<Answer>('produce');
    expect(answers.map((a) => [a.request_id, a.error ? streamingErrorFromProto(a.error).code : 'ok'])).toEqual([
      ['0', 'ok'],
      ['1', StreamingCode.CHANNEL_FENCED],
      ['2', StreamingCode.CHANNEL_FENCED],
    ]);
    expect(call.framesOf('close')).toEqual([]);
    const end = await call.ended;
    expect(end.ok === false && end.error.code).toBe(StreamingCode.CHANNEL_FENCED);
  });

  it('a client cancel aborts the appends and sends nothing more', async () => {
    const { call, wal, served } = start();
    call.receive(produce(1));
    await appendsStarted(wal, 1);
    const written = call.written.length;
    call.cancel();
    expect(wal.appends[0]?.signal?.aborted).toBe(true);
    wal.appends[0]?.result.reject(StreamingError.onShutdown('aborted'));
    await served;
    expect(call.written).toHaveLength(written);
  });

  it('a client that does not read holds at most the call buffer plus the in-flight bound', async () => {
    const { call, wal, served } = start({ maxInFlightAppends: 4 });
    call.hold();
    for (let i = 0; i < 40; i++) call.receive(produce(i));
    // Settle every append as soon as it starts, until nothing new starts.
    let settled = 0;
    for (;;) {
      while (settled < wal.appends.length) wal.succeed(settled++);
      await turns(10);
      if (settled === wal.appends.length) break;
    }
    // The create frame and 15 answers fill the call's buffer (object-mode high water mark: 16),
    // 4 more answers hold every permit, so nothing else is read.
    expect(wal.appends).toHaveLength(19);
    expect(call.readableLength).toBeGreaterThan(0);
    call.release();
    for (;;) {
      while (settled < wal.appends.length) wal.succeed(settled++);
      if (settled === 40) break;
      await appendsStarted(wal, settled + 1);
    }
    call.finishRequests();
    await served;
    expect(call.framesOf<Answer>('produce')).toHaveLength(40);
  });

  it('the service stopping ends the stream with ON_SHUTDOWN after the answers', async () => {
    const { call, wal, served, shutdown } = start();
    call.receive(produce(1));
    await appendsStarted(wal, 1);
    shutdown.abort(StreamingError.onShutdown('node stopping'));
    await turns();
    wal.succeed(0);
    await served;
    expect(call.framesOf<Answer>('produce').map((a) => a.request_id)).toEqual(['1']);
    const end = await call.ended;
    expect(end.ok === false && end.error.code).toBe(StreamingCode.ON_SHUTDOWN);
  });
});
