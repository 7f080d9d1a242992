/**
 * The handler-service tests' world: a real grpc-js server on 127.0.0.1:0 hosting only
 * StreamingNodeHandlerService, over a real WalManager whose WALs are the real adaptor (real
 * interceptors and scanners) on the in-memory backend; and raw grpc-js client calls (no SDK), so
 * the wire protocol itself is what is tested.
 */
import * as grpc from '@grpc/grpc-js';
import { HandlerService, type HandlerServiceOptions } from '../../node/service/handler-service.js';
import { MemoryWalBackendOpener, type Wal, WalOpener } from '../../node/wal/index.js';
import { WalManager } from '../../node/wal-manager/index.js';
import {
  clientConstructors,
  fromServiceError,
  ImmutableMessage,
  LocalTsoAllocator,
  MessageType,
  type MutableMessage,
  newUserMessage,
  type PChannelInfo,
  pchannelInfo,
  pchannelInfoToProto,
  type ProtoInputOf,
  type ProtoOutput,
  type StreamingError,
  type StreamingNodeHandlerServiceClient,
  vchannelName,
  waitFor,
} from '../../shared/index.js';
import { handshakeMetadata } from '../harness/handshake-metadata.js';
import { uniqueName } from '../harness/unique.js';

export { handshakeMetadata };

export type ProduceRequest = ProtoInputOf<'milvus.proto.streaming.ProduceRequest'>;
export type ProduceResponse = ProtoOutput<'milvus.proto.streaming.ProduceResponse'>;
export type ConsumeRequest = ProtoInputOf<'milvus.proto.streaming.ConsumeRequest'>;
export type ConsumeResponse = ProtoOutput<'milvus.proto.streaming.ConsumeResponse'>;
export type DeliverPolicyProto = ProtoInputOf<'milvus.proto.streaming.DeliverPolicy'>;
export type DeliverFilterProto = ProtoInputOf<'milvus.proto.streaming.DeliverFilter'>;

/** Short WAL timings so idle ticks and syncs happen fast. */
const WAL_CONFIG = Object.freeze({
  timeTickIntervalMs: 20,
  txnGracefulCloseTimeoutMs: 100,
  checkpointIntervalMs: 200,
  retentionMaxAgeMs: 0,
  retentionMaxBytes: 0,
});

/** One server, one WAL manager, one client. */
export class HandlerFixture {
  /** The server id every `create` frame carries. */
  static readonly SERVER_ID = '42';
  readonly service: HandlerService;
  readonly manager: WalManager<Wal>;
  readonly client: StreamingNodeHandlerServiceClient;
  readonly address: string;
  readonly #server: grpc.Server;
  readonly #backend: MemoryWalBackendOpener;
  readonly #clients: grpc.Client[] = [];
  readonly #managers: WalManager<Wal>[] = [];

  private constructor(server: grpc.Server, service: HandlerService, manager: WalManager<Wal>, backend: MemoryWalBackendOpener, address: string) {
    this.#server = server;
    this.service = service;
    this.manager = manager;
    this.#backend = backend;
    this.address = address;
    this.client = this.newClient();
  }

  static async start(options: Partial<Omit<HandlerServiceOptions, 'walManager'>> = {}): Promise<HandlerFixture> {
    const backend = new MemoryWalBackendOpener();
    const opener = new WalOpener({ backendOpener: backend, tso: new LocalTsoAllocator(), nodeId: 42n, config: WAL_CONFIG });
    const manager = new WalManager<Wal>({ opener });
    const service = new HandlerService({ serverId: 42n, ...options, walManager: manager });
    const server = new grpc.Server();
    server.addService(service.definition, service.handlers);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    return new HandlerFixture(server, service, manager, backend, `127.0.0.1:${port}`);
  }

  /** A fresh pchannel opened at `term`, with two of its vchannels. */
  async openChannel(term = 1n): Promise<{ channel: PChannelInfo; v1: string; v2: string }> {
    const name = `${uniqueName('handler')}-rootcoord-dml_0`;
    const channel = pchannelInfo(name, term);
    await this.manager.open(channel);
    return { channel, v1: vchannelName(name, 100, 0), v2: vchannelName(name, 200, 0) };
  }

  /**
   * A second node's WAL manager on the same storage (another process taking the pchannel over):
   * opening a higher term there fences the WALs of {@link manager}.
   */
  otherManager(): WalManager<Wal> {
    const opener = new WalOpener({ backendOpener: this.#backend, tso: new LocalTsoAllocator(), nodeId: 43n, config: WAL_CONFIG });
    const manager = new WalManager<Wal>({ opener });
    this.#managers.push(manager);
    return manager;
  }

  /** Another raw client (own connection), closed by {@link close}. */
  newClient(options: grpc.ChannelOptions = {}): StreamingNodeHandlerServiceClient {
    const Ctor = clientConstructors().streamingNodeHandler;
    const client = new Ctor(this.address, grpc.credentials.createInsecure(), options) as unknown as StreamingNodeHandlerServiceClient;
    this.#clients.push(client);
    return client;
  }

  /** A raw client without typed methods (for custom serialisers). */
  newRawClient(): grpc.Client {
    const client = new grpc.Client(this.address, grpc.credentials.createInsecure());
    this.#clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const c of this.#clients) c.close();
    // Cancelling every call first: a stream whose client stopped reading cannot hold this up.
    this.#server.forceShutdown();
    await this.service.close();
    for (const m of [this.manager, ...this.#managers]) await m.close().catch(() => undefined);
    await this.#backend.close();
  }
}

/** How a call ended. */
export interface CallEnd {
  readonly code: grpc.status;
  readonly details: string;
  /** The StreamingError of the status (from its details trailer); undefined for OK. */
  readonly error: StreamingError | undefined;
}

/**
 * A raw bidi call with its responses collected: `next()` takes them in order, `ended` settles
 * with the status. Reading can be paused to play a slow client.
 */
export class Probe<Req, Res> {
  readonly call: grpc.ClientDuplexStream<Req, Res>;
  readonly received: Res[] = [];
  readonly ended: Promise<CallEnd>;
  #taken = 0;

  /**
   * `pauseAfter`: stop reading after that many responses (a slow client). Pausing before the
   * first read would not do: grpc-js then never pauses its HTTP/2 stream and buffers every
   * response in the client (measured with grpc-js 1.14), so the server sees no backpressure.
   */
  constructor(call: grpc.ClientDuplexStream<Req, Res>, options: { pauseAfter?: number } = {}) {
    this.call = call;
    this.ended = new Promise<CallEnd>((resolve) => {
      call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, error: fromServiceError(e) }));
      call.on('status', (s: grpc.StatusObject) => {
        if (s.code === grpc.status.OK) resolve({ code: s.code, details: s.details, error: undefined });
      });
    });
    // Keeps the promise observed; tests await it when they care.
    this.ended.catch(() => undefined);
    call.on('data', (r: Res) => {
      this.received.push(r);
      if (this.received.length === options.pauseAfter) call.pause();
    });
  }

  send(request: Req): void {
    this.call.write(request);
  }

  /** The next response, waiting for it. */
  async next(timeoutMs = 10_000): Promise<Res> {
    const index = this.#taken;
    await waitFor(() => this.received.length > index, { timeoutMs, intervalMs: 2, message: `response #${index}` });
    this.#taken += 1;
    return this.received[index] as Res;
  }

  /** Every response from now until `count` more arrived. */
  async take(count: number, timeoutMs = 15_000): Promise<Res[]> {
    const out: Res[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Half-close after `close` was sent (or just half-close). */
  end(): void {
    this.call.end();
  }
}

/** Opens a producer stream. */
export function producer(client: StreamingNodeHandlerServiceClient, channel: PChannelInfo, enableBatch = false): Probe<ProduceRequest, ProduceResponse> {
  const metadata = handshakeMetadata('create-producer', { pchannel: pchannelInfoToProto(channel), enable_batch: enableBatch });
  return new Probe(client.Produce(metadata));
}

/** Opens a consumer stream (not yet reading any vchannel). */
export function consumer(
  client: StreamingNodeHandlerServiceClient,
  channel: PChannelInfo,
  options: { maxBatchMessages?: number; pauseAfter?: number } = {},
): Probe<ConsumeRequest, ConsumeResponse> {
  const metadata = handshakeMetadata('create-consumer', { pchannel: pchannelInfoToProto(channel), max_batch_messages: options.maxBatchMessages ?? 0 });
  return new Probe(client.Consume(metadata), options.pauseAfter === undefined ? {} : { pauseAfter: options.pauseAfter });
}

/** An Insert into `vchannel` tagged with user property `seq`. */
export function insert(vchannel: string, seq: number | string, payloadBytes = 8): MutableMessage {
  const payload = Buffer.alloc(payloadBytes, 0x61);
  return newUserMessage({ type: MessageType.Insert, vchannel, payload, properties: { seq: String(seq) } });
}

/** A produce frame for `message`. */
export function produceFrame(requestId: number | string, message: MutableMessage): ProduceRequest {
  return { produce: { request_id: String(requestId), message: message.toProto() } };
}

/** The data messages of consume frames (`consume` and `consume_batch`), TimeTicks left out. */
export function dataMessages(frames: readonly ConsumeResponse[]): ImmutableMessage[] {
  return allMessages(frames).filter((m) => m.messageType !== MessageType.TimeTick);
}

/** Every message of consume frames, in order. */
export function allMessages(frames: readonly ConsumeResponse[]): ImmutableMessage[] {
  const out: ImmutableMessage[] = [];
  for (const f of frames) {
    if (f.consume?.message) out.push(ImmutableMessage.fromProto(f.consume.message));
    for (const m of f.consume_batch?.messages ?? []) out.push(ImmutableMessage.fromProto(m));
  }
  return out;
}

/** Waits until the consume frames received so far hold `count` data messages; returns them. */
export async function consumeData(probe: Probe<ConsumeRequest, ConsumeResponse>, count: number, timeoutMs = 15_000): Promise<ImmutableMessage[]> {
  return waitFor(
    () => {
      const data = dataMessages(probe.received);
      return data.length >= count ? data : undefined;
    },
    { timeoutMs, intervalMs: 5, message: `${count} data messages` },
  );
}

/** The `seq` user property of each message. */
export function seqs(messages: readonly ImmutableMessage[]): (string | undefined)[] {
  return messages.map((m) => m.property('seq'));
}

/** What an acknowledged append returned, for positioning readers. */
export interface Acked {
  readonly seq: string;
  readonly id: ProtoInputOf<'milvus.proto.common.MessageID'>;
  readonly timeTick: bigint;
}

/** Produces `messages` one at a time (each answered before the next), so WAL order is call order. */
export async function produceEach(probe: Probe<ProduceRequest, ProduceResponse>, messages: readonly MutableMessage[]): Promise<Acked[]> {
  const out: Acked[] = [];
  for (const [i, message] of messages.entries()) {
    probe.send(produceFrame(i, message));
    const answer = await probe.next();
    const result = answer.produce?.result;
    if (!result?.id) throw new Error(`append ${i} failed: ${JSON.stringify(answer.produce?.error)}`);
    out.push({ seq: message.property('seq') ?? '', id: { id: result.id.id, WAL_name: result.id.WAL_name }, timeTick: BigInt(result.timetick) });
  }
  return out;
}
