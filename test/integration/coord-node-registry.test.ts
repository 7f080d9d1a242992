/**
 * Node discovery end to end on a real etcd and real gRPC over loopback: fake streaming nodes
 * register sessions like real nodes; the coordinator's SessionNodeRegistry sees them join, stop
 * and leave (gracefully or by lease expiry), and its GrpcNodeManagerClients reach the right node
 * with exact int64 terms and carry node errors (and transport failures) back as StreamingErrors.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EtcdMetaKV,
  STREAMING_NODE_ROLE,
  StreamingCode,
  StreamingError,
  type StreamingNodeStateServiceClient,
  clientConstructors,
  grpcCodeOf,
  pchannelInfo,
  sessionKey,
  waitFor,
} from '../../shared/index.js';
import { GrpcNodeManagerClient, SessionNodeRegistry, type StreamingNodeManagerClient } from '../../coord/discovery/index.js';
import { type FakeStreamingNode, type FakeStreamingNodeOptions, startFakeStreamingNode } from '../harness/fake-streaming-node.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { uniquePrefix } from '../harness/unique.js';

const BIG_TERM = (1n << 62n) + 7n; // far beyond 2^53: a Number would round it
const MAX_TERM = (1n << 63n) - 1n;

let etcd: EtcdProcess;
let kv: EtcdMetaKV;
let rootPath: string;
const nodes: FakeStreamingNode[] = [];
const registries: SessionNodeRegistry[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  kv = new EtcdMetaKV({ endpoints: [etcd.endpoint], requestTimeoutMs: 2_000 });
});
afterAll(async () => {
  await kv?.close();
  await etcd?.close();
});
afterEach(async () => {
  await Promise.allSettled(registries.splice(0).map((r) => r.close()));
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()));
});

function newRootPath(): string {
  rootPath = `${uniquePrefix('node-registry')}meta`;
  return rootPath;
}

async function startNode(options: Partial<FakeStreamingNodeOptions> = {}): Promise<FakeStreamingNode> {
  const node = await startFakeStreamingNode({ kv, rootPath, ttlMs: 10_000, ...options });
  nodes.push(node);
  return node;
}

async function startRegistry(options: { callTimeoutMs?: number } = {}): Promise<SessionNodeRegistry> {
  const registry = new SessionNodeRegistry({ kv, rootPath, ...options });
  registries.push(registry);
  await registry.start();
  return registry;
}

/** The registry's client of `node`, once the node is in the view. */
async function clientOf(registry: SessionNodeRegistry, node: FakeStreamingNode): Promise<StreamingNodeManagerClient> {
  return waitFor(() => registry.client(node.serverId), { message: `client of node ${node.serverId}` });
}

async function rejection(promise: Promise<unknown>): Promise<StreamingError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StreamingError);
  return error as StreamingError;
}

describe('SessionNodeRegistry on etcd with fake streaming nodes', () => {
  it('sees three nodes join, with their addresses', async () => {
    newRootPath();
    const registry = await startRegistry();
    expect(registry.current().nodes.size).toBe(0);
    const started = [await startNode(), await startNode(), await startNode()];
    const view = await waitFor(() => (registry.current().nodes.size === 3 ? registry.current() : undefined));
    for (const node of started) {
      expect(view.nodes.get(node.serverId)).toEqual({ serverId: node.serverId, address: node.address, stopping: false });
      expect(registry.client(node.serverId)?.address).toBe(node.address);
    }
    expect(new Set(started.map((n) => n.serverId)).size).toBe(3);
  });

  it('routes Assign / Remove / CollectStatus to the right node with exact 64-bit terms and ticks', async () => {
    newRootPath();
    const [a, b, c] = [await startNode(), await startNode(), await startNode()];
    const registry = await startRegistry();
    const chA = pchannelInfo('by-dev-rootcoord-dml_0', BIG_TERM);
    const chB = pchannelInfo('by-dev-rootcoord-dml_1', MAX_TERM, 'ro');
    await (await clientOf(registry, a!)).assign(chA);
    await (await clientOf(registry, b!)).assign(chB);

    expect(a!.calls.map((x) => [x.method, x.channel])).toEqual([['Assign', chA]]);
    expect(b!.calls.map((x) => [x.method, x.channel])).toEqual([['Assign', chB]]);
    expect(c!.calls).toEqual([]);
    expect(a!.openChannels().get(chA.name)?.term).toBe(BIG_TERM);

    const mvcc = (1n << 63n) + 12345n; // uint64 above int64 range
    a!.setWalMetrics(chA.name, { mvccTimeTick: mvcc, recoveryTimeTick: mvcc - 1n });
    expect(await registry.client(a!.serverId)!.collectStatus()).toEqual([{ channel: chA, mvccTimeTick: mvcc, recoveryTimeTick: mvcc - 1n }]);
    expect(await registry.client(b!.serverId)!.collectStatus()).toEqual([{ channel: chB }]);
    expect(await registry.client(c!.serverId)!.collectStatus()).toEqual([]);

    await registry.client(a!.serverId)!.remove(chA);
    expect(a!.calls.map((x) => [x.method, x.channel?.term])).toEqual([
      ['Assign', BIG_TERM],
      ['CollectStatus', undefined],
      ['Remove', BIG_TERM],
    ]);
    expect(a!.openChannels().size).toBe(0);
  });

  it('rejects with the StreamingCode the node failed with', async () => {
    newRootPath();
    const node = await startNode();
    const client = await clientOf(await startRegistry(), node);
    const ch = pchannelInfo('by-dev-rootcoord-dml_2', BIG_TERM);

    node.failNext(1, StreamingError.channelFenced(ch.name));
    const fenced = await rejection(client.assign(ch));
    expect(fenced.code).toBe(StreamingCode.CHANNEL_FENCED);
    expect(fenced.isFenced()).toBe(true);
    expect(grpcCodeOf(fenced)).toBe(grpc.status.FAILED_PRECONDITION);

    node.failNext(1, StreamingError.unmatchedChannelTerm(ch.name, BIG_TERM, BIG_TERM + 1n), { method: 'Remove' });
    await client.assign(ch); // not a Remove: unaffected
    const unmatched = await rejection(client.remove(ch));
    expect(unmatched.code).toBe(StreamingCode.UNMATCHED_CHANNEL_TERM);
    expect(unmatched.isWrongStreamingNode()).toBe(true);
    expect(unmatched.message).toContain(`${BIG_TERM + 1n}`);

    // The fake's own term rule, as a real node's: an older term than the one asked for is stale.
    const stale = await rejection(client.assign(pchannelInfo(ch.name, BIG_TERM - 1n)));
    expect(stale.code).toBe(StreamingCode.IGNORED_OPERATION);
    expect(node.calls.map((x) => x.outcome)).toEqual(['failed', 'ok', 'failed', 'failed']);
  });

  it('tells an unreachable node (server down, session still alive) by grpcCodeOf UNAVAILABLE', async () => {
    newRootPath();
    const node = await startNode();
    const registry = await startRegistry();
    const client = await clientOf(registry, node);
    await client.collectStatus(); // connected once
    await node.kill();
    const err = await rejection(client.assign(pchannelInfo('by-dev-rootcoord-dml_3', 1n)));
    expect(grpcCodeOf(err)).toBe(grpc.status.UNAVAILABLE);
    expect(err.code).toBe(StreamingCode.UNKNOWN);
    expect(err.message).toContain(node.address);
    expect(registry.client(node.serverId)).toBe(client); // the session has not expired yet
  });

  it('applies the per-call deadline, the abort signal, and cancels held calls on client close', async () => {
    newRootPath();
    const node = await startNode();
    const registry = await startRegistry();
    const client = await clientOf(registry, node);
    node.hold();
    const late = await rejection(client.collectStatus({ timeoutMs: 200 }));
    expect(grpcCodeOf(late)).toBe(grpc.status.DEADLINE_EXCEEDED);

    const controller = new AbortController();
    const aborted = client.assign(pchannelInfo('ch-abort', 1n), { signal: controller.signal });
    await waitFor(() => node.callsOf('Assign').length === 1);
    const reason = StreamingError.onShutdown('balancer stopped');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);

    const own = new GrpcNodeManagerClient({ serverId: node.serverId, address: node.address });
    const pending = own.remove(pchannelInfo('ch-close', 1n));
    await waitFor(() => node.callsOf('Remove').length === 1);
    await own.close();
    expect((await rejection(pending)).code).toBe(StreamingCode.ON_SHUTDOWN);

    // The node saw every one of them go away while parked, and applies none after release.
    await waitFor(() => node.calls.every((c) => c.outcome === 'cancelled'));
    expect(node.heldCount).toBe(3);
    node.release();
    await waitFor(() => node.heldCount === 0);
    expect(node.calls.map((c) => c.outcome)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(node.openChannels().size).toBe(0);
  });

  it('shows a node marked stopping with stopping: true and keeps its client', async () => {
    newRootPath();
    const node = await startNode();
    const registry = await startRegistry();
    const client = await clientOf(registry, node);
    await node.markStopping();
    await waitFor(() => registry.current().nodes.get(node.serverId)?.stopping);
    expect(registry.client(node.serverId)).toBe(client);
    await client.collectStatus();

    const state = new (clientConstructors().streamingNodeState)(node.address, grpc.credentials.createInsecure()) as StreamingNodeStateServiceClient;
    try {
      const states = await new Promise<{ state: { state_code: string; nodeID: string } | null }>((resolve, reject) =>
        state.GetComponentStates({}, (e, r) => (e || !r ? reject(e) : resolve(r))),
      );
      expect(states.state).toMatchObject({ state_code: 'Stopping', nodeID: node.serverId.toString() });
    } finally {
      state.close();
    }
  });

  it('drops a node that leaves gracefully and closes its client', async () => {
    newRootPath();
    const [stay, leave] = [await startNode(), await startNode()];
    const registry = await startRegistry();
    const client = (await clientOf(registry, leave!)) as GrpcNodeManagerClient;
    expect(client).toBeInstanceOf(GrpcNodeManagerClient);
    await leave!.stop();
    await waitFor(() => !registry.current().nodes.has(leave!.serverId));
    expect(registry.client(leave!.serverId)).toBeUndefined();
    expect(registry.current().nodes.has(stay!.serverId)).toBe(true);
    expect(client.isClosed).toBe(true);
    expect((await rejection(client.collectStatus())).code).toBe(StreamingCode.ON_SHUTDOWN);
  });

  it('drops a killed node once its session lease expires', async () => {
    newRootPath();
    const node = await startNode({ ttlMs: 2_000 });
    const registry = await startRegistry();
    await clientOf(registry, node);
    await node.kill();
    expect(registry.current().nodes.has(node.serverId)).toBe(true); // not revoked: still listed
    await waitFor(() => !registry.current().nodes.has(node.serverId), { timeoutMs: 15_000, message: 'killed node gone after lease expiry' });
    expect(registry.client(node.serverId)).toBeUndefined();
  });

  it('skips a session whose value does not decode', async () => {
    newRootPath();
    await kv.put(sessionKey(rootPath, STREAMING_NODE_ROLE, 999_999n), 'not json at all');
    const node = await startNode();
    const registry = await startRegistry();
    expect([...registry.current().nodes.keys()]).toEqual([node.serverId]);
    await kv.put(sessionKey(rootPath, STREAMING_NODE_ROLE, 999_998n), '{"ServerID":"x"}');
    const second = await startNode();
    await waitFor(() => registry.current().nodes.size === 2);
    expect(registry.client(second.serverId)).toBeDefined();
    expect(registry.client(999_998n)).toBeUndefined();
  });

  it('close is idempotent and closes every client', async () => {
    newRootPath();
    const started = [await startNode(), await startNode()];
    const registry = await startRegistry();
    const clients = await Promise.all(started.map((n) => clientOf(registry, n)));
    const closing = registry.close();
    expect(registry.close()).toBe(closing);
    await closing;
    for (const client of clients) {
      expect((client as GrpcNodeManagerClient).isClosed).toBe(true);
      expect((await rejection(client.collectStatus())).code).toBe(StreamingCode.ON_SHUTDOWN);
    }
    expect(registry.client(started[0]!.serverId)).toBeUndefined();
    await registry.close();
  });
});
