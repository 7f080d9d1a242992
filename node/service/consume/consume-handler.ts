/**
 * The `Consume` handler: the handshake (metadata → WAL → `create` frame), then a
 * {@link ConsumeServer} for the rest of the stream (its file comment has the message sequence).
 */
import type * as grpc from '@grpc/grpc-js';
import { formatPChannelInfo, throwIfAborted } from '../../../shared/index.js';
import { BidiCall, DEPRECATED_WAL_NAME, readConsumerHandshake, type StreamContext } from '../produce/index.js';
import type { ConsumeRequestFrame, ConsumeResponseFrame } from './consume-frames.js';
import { ConsumeServer } from './consume-server.js';

/**
 * Serves one `Consume` call. A missing or undecodable `create-consumer` handshake ends the call
 * with INVAILD_ARGUMENT, and a WAL that is not here at that term with the WAL manager's error
 * (CHANNEL_NOT_EXIST, UNMATCHED_CHANNEL_TERM, ON_SHUTDOWN), before any frame, as Milvus does.
 * `onServing` sees the consumer once the `create` frame is queued. Resolves when the call ended;
 * never rejects.
 */
export async function serveConsume(
  rawCall: grpc.ServerDuplexStream<ConsumeRequestFrame, ConsumeResponseFrame>,
  context: StreamContext,
  onServing: (server: ConsumeServer) => void = () => undefined,
): Promise<void> {
  const call = new BidiCall<ConsumeRequestFrame, ConsumeResponseFrame>(rawCall, 'consume');
  const log = context.logger.child({ component: 'consume-server' });
  let server: ConsumeServer;
  try {
    throwIfAborted(context.shutdown);
    const { request, channel } = readConsumerHandshake(call.metadata);
    const wal = context.wals().getAvailableWal(channel);
    const logger = log.child({ channel: channel.name, term: channel.term.toString() });
    // batch_enabled: this server understands max_batch_messages (whether or not this client asked).
    await call.writer.write({
      create: { wal_name: DEPRECATED_WAL_NAME, consumer_server_id: context.serverId().toString(), batch_enabled: true },
    });
    const batch = { streamMaxBatchMessages: request.max_batch_messages, limit: context.limits.maxConsumeBatchMessages };
    server = new ConsumeServer({ call, wal, batch, shutdown: context.shutdown, logger });
    logger.info({ channel: formatPChannelInfo(channel), maxBatch: request.max_batch_messages }, 'consumer stream created');
  } catch (error) {
    log.warn({ err: error }, 'consumer stream refused');
    call.fail(error);
    return;
  }
  onServing(server);
  await server.run();
}
