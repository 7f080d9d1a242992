/**
 * The `Produce` handler: the handshake (metadata → WAL → `create` frame), then a
 * {@link ProduceServer} for the rest of the stream (its file comment has the message sequence).
 */
import type * as grpc from '@grpc/grpc-js';
import { formatPChannelInfo, throwIfAborted } from '../../../shared/index.js';
import { BidiCall } from './bidi-call.js';
import { readProducerHandshake } from './handshake.js';
import type { ProduceRequestFrame, ProduceResponseFrame } from './produce-frames.js';
import { ProduceServer } from './produce-server.js';
import type { StreamContext } from './stream-context.js';

/**
 * `CreateProducerResponse.wal_name` / `CreateConsumerResponse.wal_name` (deprecated upstream, still
 * sent by Milvus 2.6, only logged by its clients): our ids are RocksMQ-style.
 */
export const DEPRECATED_WAL_NAME = 'rocksmq';

/**
 * Serves one `Produce` call. A missing or undecodable `create-producer` handshake ends the call
 * with INVAILD_ARGUMENT, and a WAL that is not here at that term with the WAL manager's error
 * (CHANNEL_NOT_EXIST, UNMATCHED_CHANNEL_TERM, ON_SHUTDOWN), before any frame, as Milvus does.
 * `onServing` sees the producer once the `create` frame is queued. Resolves when the call ended;
 * never rejects.
 */
export async function serveProduce(
  rawCall: grpc.ServerDuplexStream<ProduceRequestFrame, ProduceResponseFrame>,
  context: StreamContext,
  onServing: (server: ProduceServer) => void = () => undefined,
): Promise<void> {
  const call = new BidiCall<ProduceRequestFrame, ProduceResponseFrame>(rawCall, 'produce');
  const log = context.logger.child({ component: 'produce-server' });
  let server: ProduceServer;
  try {
    throwIfAborted(context.shutdown);
    const { request, channel } = readProducerHandshake(call.metadata);
    const wal = context.wals().getAvailableWal(channel);
    const batchEnabled = request.enable_batch;
    const logger = log.child({ channel: channel.name, term: channel.term.toString() });
    await call.writer.write({
      create: { wal_name: DEPRECATED_WAL_NAME, producer_server_id: context.serverId().toString(), batch_enabled: batchEnabled },
    });
    server = new ProduceServer({ call, wal, batchEnabled, limits: context.limits, shutdown: context.shutdown, logger });
    logger.info({ channel: formatPChannelInfo(channel), batchEnabled }, 'producer stream created');
  } catch (error) {
    log.warn({ err: error }, 'producer stream refused');
    call.fail(error);
    return;
  }
  onServing(server);
  await server.run();
}
