/**
 * Raw grpc-js calls the fail-over benchmark makes against real processes: the coordinator's
 * WAL distribution and TSO, and one append through a node's Produce stream (the Milvus wire
 * protocol: create-producer metadata, a `create` answer, then one `produce` request and answer).
 */
import * as grpc from '@grpc/grpc-js';
import {
  clientConstructors,
  type MutableMessage,
  type PChannelInfo,
  pchannelInfoToProto,
  type ProtoInputOf,
  type ProtoOutput,
  type StreamingNodeHandlerServiceClient,
} from '../../shared/index.js';
import { handshakeMetadata } from '../../test/harness/handshake-metadata.js';

/** Where one pchannel is, as the coordinator reports it. */
export interface Placement {
  readonly pchannel: string;
  readonly term: bigint;
  readonly assigned: boolean;
  readonly serverId: string | undefined;
  readonly address: string | undefined;
}

function unary<Res>(fn: (cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r as Res))));
}

function deadline(ms: number): grpc.CallOptions {
  return { deadline: Date.now() + ms };
}

/** The coordinator's view of every pchannel. */
export async function walDistribution(coordAddress: string, timeoutMs = 2_000): Promise<Placement[]> {
  const client = new (clientConstructors().walAdmin)(coordAddress, grpc.credentials.createInsecure());
  try {
    const res = await unary<ProtoOutput<'streamingwal.v1.GetWALDistributionResponse'>>((cb) => client.GetWALDistribution({}, deadline(timeoutMs), cb));
    return res.pchannels.map((p) => ({
      pchannel: p.pchannel,
      term: BigInt(p.term),
      assigned: p.state === 'PCHANNEL_META_STATE_ASSIGNED',
      serverId: p.node?.server_id === undefined ? undefined : String(p.node.server_id),
      address: p.node?.address || undefined,
    }));
  } finally {
    client.close();
  }
}

/** Server ids of the streaming nodes the coordinator knows. */
export async function listNodes(coordAddress: string, timeoutMs = 2_000): Promise<string[]> {
  const client = new (clientConstructors().walAdmin)(coordAddress, grpc.credentials.createInsecure());
  try {
    const res = await unary<ProtoOutput<'streamingwal.v1.ListNodesResponse'>>((cb) => client.ListNodes({}, deadline(timeoutMs), cb));
    return res.nodes.map((n) => String(n.server_id));
  } finally {
    client.close();
  }
}

/** One timestamp from the coordinator's TSO (rejects while it is a standby or down). */
export async function allocateTimestamp(coordAddress: string, timeoutMs = 1_000): Promise<bigint> {
  const client = new (clientConstructors().tso)(coordAddress, grpc.credentials.createInsecure());
  try {
    const res = await unary<{ timestamp: string }>((cb) => client.AllocateTimestamps({ count: 1 }, deadline(timeoutMs), cb));
    return BigInt(res.timestamp);
  } finally {
    client.close();
  }
}

type ProduceRequest = ProtoInputOf<'milvus.proto.streaming.ProduceRequest'>;
type ProduceResponse = ProtoOutput<'milvus.proto.streaming.ProduceResponse'>;

/** What an acknowledged append returned. */
export interface Appended {
  readonly id: string;
  readonly timeTick: bigint;
}

/**
 * Appends `message` to `channel` on the node at `address` through a fresh producer stream.
 * Rejects with the in-band or stream error, or after `timeoutMs`.
 */
export function appendOnce(address: string, channel: PChannelInfo, message: MutableMessage, timeoutMs = 2_000): Promise<Appended> {
  const client = new (clientConstructors().streamingNodeHandler)(address, grpc.credentials.createInsecure()) as unknown as StreamingNodeHandlerServiceClient;
  const metadata = handshakeMetadata('create-producer', { pchannel: pchannelInfoToProto(channel), enable_batch: false });
  const call = client.Produce(metadata, deadline(timeoutMs)) as grpc.ClientDuplexStream<ProduceRequest, ProduceResponse>;
  return new Promise<Appended>((resolve, reject) => {
    const finish = (error: Error | undefined, result?: Appended): void => {
      call.removeAllListeners('data');
      call.on('error', () => undefined);
      call.cancel();
      client.close();
      if (error !== undefined) reject(error);
      else resolve(result as Appended);
    };
    call.on('data', (frame: ProduceResponse) => {
      const answer = frame.produce;
      if (answer === null || answer === undefined) return; // the `create` frame
      if (answer.result?.id) finish(undefined, { id: answer.result.id.id, timeTick: BigInt(answer.result.timetick) });
      else finish(new Error(`append refused: ${JSON.stringify(answer.error)}`));
    });
    call.on('error', (error: Error) => finish(error));
    call.write({ produce: { request_id: '1', message: message.toProto() } });
  });
}
