/**
 * The Consume stream against a fake call and a WAL whose scanners the test feeds: the request
 * sequence, scanner failures mapped to the right status, the WAL leaving, close_vchannel while the
 * client does not read, the close handshake and a client cancel.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { serveConsume } from '../../../../../node/service/consume/index.js';
import { resolveHandlerLimits, type StreamContext } from '../../../../../node/service/produce/index.js';
import {
  encodeProtoBase64,
  noopLogger,
  pchannelInfoToProto,
  StreamingCode,
  StreamingError,
  waitFor,
} from '../../../../../shared/index.js';
import { FakeCall, FakeHandlerWal, stored } from '../produce/fakes.js';

const V = 'fake-rootcoord-dml_0_1v0';

function start(maxBatchMessages = 0): { call: FakeCall; wal: FakeHandlerWal; served: Promise<void> } {
  const wal = new FakeHandlerWal();
  const metadata = new grpc.Metadata();
  metadata.set('create-consumer', encodeProtoBase64('milvus.proto.streaming.CreateConsumerRequest', { pchannel: pchannelInfoToProto(wal.channel), max_batch_messages: maxBatchMessages }));
  const call = new FakeCall(metadata);
  const context: StreamContext = {
    wals: () => ({ getAvailableWal: () => wal }),
    serverId: () => 5n,
    limits: resolveHandlerLimits(),
    logger: noopLogger,
    shutdown: new AbortController().signal,
  };
  return { call, wal, served: serveConsume(call.asServerStream(), context) };
}

const create = { request: 'create_vchannel_consumer', create_vchannel_consumer: { vchannel: V, deliver_policy: { policy: 'all', all: {} }, deliver_filters: [], max_batch_messages: 0 } };

async function opened(call: FakeCall, wal: FakeHandlerWal) {
  call.receive(create);
  await waitFor(() => call.framesOf('create_vchannel').length === 1 && wal.scanners.length === 1);
  const scanner = wal.scanners[0];
  if (scanner === undefined) throw new Error('no scanner');
  return scanner;
}

async function endCode(call: FakeCall): Promise<string> {
  const end = await call.ended;
  return end.ok ? 'OK' : (StreamingCode[end.error.code] ?? 'UNKNOWN');
}

describe('ConsumeServer', () => {
  it('needs create_vchannel_consumer first', async () => {
    const { call, served } = start();
    call.receive({ request: 'close', close: {} });
    await served;
    expect(await endCode(call)).toBe('INVALID_REQUEST_SEQ');
    expect(call.written).toEqual([{ create: { wal_name: 'rocksmq', consumer_server_id: '5', batch_enabled: true } }]);
  });

  it('sends create_vchannel, then the scanner messages, and close on close', async () => {
    const { call, wal, served } = start();
    const scanner = await opened(call, wal);
    expect(call.framesOf('create_vchannel')).toEqual([{ consumer_id: '1' }]);
    await scanner.queue.push(stored(1n, V));
    await scanner.queue.push(stored(2n, V));
    await waitFor(() => call.framesOf('consume').length === 2);
    call.receive({ request: 'close', close: {} });
    await served;
    expect(await endCode(call)).toBe('OK');
    expect(call.written.at(-1)).toEqual({ close: {} });
    expect(scanner.closeCalls).toBeGreaterThan(0);
  });

  it('a scanner failure ends the stream with INNER (resume), an unrecoverable one passes through', async () => {
    for (const [error, expected] of [
      [StreamingError.onShutdown('backend hiccup'), 'INNER'],
      [StreamingError.unrecoverable('position truncated'), 'UNRECOVERABLE'],
    ] as const) {
      const { call, wal, served } = start();
      const scanner = await opened(call, wal);
      scanner.fail(error);
      await served;
      expect(await endCode(call)).toBe(expected);
    }
  });

  it('the WAL leaving ends the stream with its reason', async () => {
    const { call, wal, served } = start();
    const scanner = await opened(call, wal);
    const fenced = StreamingError.channelFenced(wal.channel.name);
    wal.makeUnavailable(fenced);
    scanner.fail(fenced);
    await served;
    expect(await endCode(call)).toBe('CHANNEL_FENCED');
  });

  it('close_vchannel drops a frame waiting for drain; nothing of that consumer follows its answer', async () => {
    const { call, wal, served } = start(4);
    const scanner = await opened(call, wal);
    call.hold();
    for (let i = 1n; i <= 200n; i++) await scanner.queue.push(stored(i, V));
    await waitFor(() => call.writableNeedDrain && scanner.queue.size > 0);
    call.receive({ request: 'close_vchannel', close_vchannel: { consumer_id: '1' } });
    await waitFor(() => scanner.closeCalls > 0);
    call.release();
    await waitFor(() => call.framesOf('close_vchannel').length === 1);
    const at = call.written.findIndex((f) => (f as Record<string, unknown>).close_vchannel !== undefined);
    expect(call.written.slice(at + 1).some((f) => (f as Record<string, unknown>).consume_batch !== undefined)).toBe(false);
    // The stream is still open: the client may create another consumer or close.
    call.finishRequests();
    await served;
    expect(await endCode(call)).toBe('OK');
  });

  it('a client cancel closes the scanner and writes nothing more', async () => {
    const { call, wal, served } = start();
    const scanner = await opened(call, wal);
    const written = call.written.length;
    call.cancel();
    await served;
    expect(scanner.closeCalls).toBeGreaterThan(0);
    expect(call.written).toHaveLength(written);
  });
});
