/**
 * The node server in-process on a real etcd, with a fake WAL opener: reachable before
 * discoverable, GetComponentStates and gRPC health, Assign/CollectStatus over the wire, graceful
 * close (Stopping, then revoke), self-fence by a paused keepalive and by a stalled etcd (every
 * WAL closed, pending opens included; a new server id once etcd answers), and the exit policy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeServer, type NodeServerOptions, RemoteTsoAllocator } from '../../node/index.js';
import {
  type Config,
  EtcdMetaKV,
  type HealthClient,
  StreamingCode,
  type StreamingNodeManagerServiceClient,
  type StreamingNodeStateServiceClient,
  clientConstructors,
  decodeSessionInfo,
  fromServiceError,
  loadConfig,
  pchannelInfo,
  pchannelInfoToProto,
  waitFor,
} from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { uniqueName } from '../harness/unique.js';
import { FakeWal, FakeWalOpener } from '../unit/node/service/fake-wal.js';
import { unary } from '../harness/grpc-unary.js';

let etcd: EtcdProcess;
let kv: EtcdMetaKV;
let dataRoot: string;
beforeAll(async () => {
  etcd = await startEtcd();
  kv = new EtcdMetaKV({ endpoints: [etcd.endpoint], requestTimeoutMs: 1_000 });
  dataRoot = mkdtempSync(join(tmpdir(), 'node-server-'));
});
afterAll(async () => {
  await kv?.close();
  await etcd?.close();
  rmSync(dataRoot, { recursive: true, force: true });
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** TTL 2 s; fenced 1 s after the last successful keepalive. */
function nodeConfig(root: string): Config {
  return loadConfig({
    env: {},
    overrides: {
      etcd: { endpoints: [etcd.endpoint], rootPath: root, requestTimeoutMs: 1_000 },
      node: { host: '127.0.0.1', port: 0, dataRoot },
      session: { ttlMs: 2_000, keepaliveIntervalMs: 200, selfFenceMarginMs: 1_000 },
      log: { level: 'silent' },
    },
  });
}

async function startNode(options: Partial<NodeServerOptions> = {}) {
  const root = uniqueName('node-root');
  const opener = new FakeWalOpener();
  const server = new NodeServer({ config: nodeConfig(root), wal: opener, shutdownTimeoutMs: 2_000, ...options });
  cleanups.push(async () => {
    opener.release();
    await server.close().catch(() => undefined);
  });
  const info = await server.start();
  return { root, opener, server, info, clients: clientsFor(info.address) };
}

function clientsFor(address: string) {
  const creds = grpc.credentials.createInsecure();
  const c = clientConstructors();
  const clients = {
    manager: new c.streamingNodeManager(address, creds) as StreamingNodeManagerServiceClient,
    state: new c.streamingNodeState(address, creds) as StreamingNodeStateServiceClient,
    health: new c.health(address, creds) as HealthClient,
  };
  cleanups.push(() => Object.values(clients).forEach((client) => client.close()));
  return clients;
}

const assign = (m: StreamingNodeManagerServiceClient, name: string, term: bigint) =>
  unary((cb) => m.Assign({ pchannel: pchannelInfoToProto(pchannelInfo(name, term)) }, cb));
const collect = (m: StreamingNodeManagerServiceClient) => unary((cb) => m.CollectStatus({}, cb));
const states = (s: StreamingNodeStateServiceClient) => unary((cb) => s.GetComponentStates({}, cb));
const check = (h: HealthClient, service = '') => unary((cb) => h.Check({ service }, cb));

async function sessionKeys(root: string): Promise<string[]> {
  return (await kv.range(`${root}/session/streamingnode-`)).kvs.map((x) => x.key);
}

describe('NodeServer', () => {
  it('is reachable before it is discoverable, then answers state, health and manager calls', async () => {
    const root = uniqueName('node-root');
    const watch = kv.watch(`${root}/session/streamingnode-`);
    cleanups.push(() => watch.close());
    await watch.ready();
    const server = new NodeServer({ config: nodeConfig(root), wal: new FakeWalOpener() });
    cleanups.push(() => server.close());
    const started = server.start();
    // The moment the session appears, its address must already answer.
    let reachableAtDiscovery: unknown;
    for await (const batch of watch) {
      const put = batch.kind === 'events' ? batch.events.find((e) => e.type === 'put') : undefined;
      if (put === undefined) continue;
      const early = clientsFor(decodeSessionInfo(put.kv.key, put.kv.value).address);
      reachableAtDiscovery = await states(early.state);
      break;
    }
    expect(reachableAtDiscovery).toMatchObject({ state: { role: 'streamingnode' } });
    const info = await started;
    expect(await sessionKeys(root)).toEqual([`${root}/session/streamingnode-${info.serverId}`]);
    expect(info.address).toBe(`127.0.0.1:${info.grpcPort}`);

    const { manager, state, health } = clientsFor(info.address);
    expect(await states(state)).toMatchObject({
      state: { nodeID: info.serverId.toString(), role: 'streamingnode', state_code: 'Healthy' },
      status: { code: 0 },
    });
    expect(await check(health)).toEqual({ status: 'SERVING' });
    expect(await check(health, 'milvus.proto.streaming.StreamingNodeManagerService')).toEqual({ status: 'SERVING' });
    await expect(check(health, 'nope.Service')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await assign(manager, 'by-dev-rootcoord-dml_0', 4n);
    expect(await collect(manager)).toMatchObject({
      metrics: { wals: [{ info: { name: 'by-dev-rootcoord-dml_0', term: '4' }, metrics: 'rw', rw: { mvcc_time_tick: '0' } }] },
    });
  });

  it('closes gracefully: health NOT_SERVING, session Stopping, WALs closed, then the session revoked', async () => {
    const { root, opener, server, info, clients } = await startNode();
    await assign(clients.manager, 'by-dev-rootcoord-dml_0', 1n);
    const key = `${root}/session/streamingnode-${info.serverId}`;
    const watch = kv.watch(key);
    cleanups.push(() => watch.close());
    await watch.ready();
    const statuses: string[] = [];
    const healthWatch = clients.health.Watch({ service: '' });
    const healthEnded = new Promise<void>((resolve) => {
      healthWatch.on('data', (r: { status: string }) => statuses.push(r.status));
      healthWatch.on('status', () => resolve());
      healthWatch.on('error', () => resolve());
    });
    await waitFor(() => statuses.length === 1);

    await server.close();
    expect(await server.closed()).toBeUndefined();
    await healthEnded;
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    expect(opener.wals.map((w) => w.isClosed)).toEqual([true]);
    const seen: Array<{ type: string; stopping?: boolean }> = [];
    for await (const batch of watch) {
      if (batch.kind !== 'events') continue;
      for (const e of batch.events) {
        seen.push(e.type === 'put' ? { type: 'put', stopping: decodeSessionInfo(e.kv.key, e.kv.value).stopping } : { type: e.type });
      }
      if (seen.some((e) => e.type === 'delete')) break;
    }
    expect(seen).toEqual([{ type: 'put', stopping: true }, { type: 'delete' }]);
    expect(await sessionKeys(root)).toEqual([]);
  });

  it('fences itself when keepalives stop: every WAL closes (pending opens too), then a new server id', async () => {
    const { root, opener, server, info, clients } = await startNode();
    await assign(clients.manager, 'by-dev-rootcoord-dml_0', 1n);
    opener.hold();
    const pending = assign(clients.manager, 'by-dev-rootcoord-dml_1', 1n).catch((e: unknown) => e);
    await waitFor(() => opener.parked === 1);

    server.session!.session!.pauseKeepaliveForTesting();
    const error = await pending;
    expect(fromServiceError(error).code).toBe(StreamingCode.ON_SHUTDOWN);
    expect(opener.wals[0]!.isClosed).toBe(true);
    await waitFor(() => server.serverId !== undefined && server.serverId !== info.serverId && server.health.isServing(), {
      timeoutMs: 15_000,
    });
    const newId = server.serverId!;
    expect(await sessionKeys(root)).toEqual([`${root}/session/streamingnode-${newId}`]);
    expect(await states(clients.state)).toMatchObject({ state: { nodeID: newId.toString(), state_code: 'Healthy' } });
    // A fresh WAL manager: nothing from before the fence, and it takes new assignments.
    expect(await collect(clients.manager)).toMatchObject({ metrics: { wals: [] } });
    opener.release();
    await assign(clients.manager, 'by-dev-rootcoord-dml_0', 2n);
    expect(opener.openWals().map((w) => [w.channel.name, w.channel.term])).toEqual([['by-dev-rootcoord-dml_0', 2n]]);
  });

  it('fences itself while etcd is stalled (SIGSTOP) and registers again once it answers', async () => {
    const { root, opener, server, info, clients } = await startNode();
    await assign(clients.manager, 'by-dev-rootcoord-dml_0', 1n);
    await etcd.pause();
    try {
      await waitFor(() => opener.wals[0]!.isClosed, { timeoutMs: 10_000 });
      expect(server.health.state).toBe('initializing');
      expect(await check(clients.health)).toEqual({ status: 'NOT_SERVING' });
      await expect(assign(clients.manager, 'by-dev-rootcoord-dml_0', 2n)).rejects.toSatisfy(
        (e: unknown) => fromServiceError(e).code === StreamingCode.ON_SHUTDOWN,
      );
    } finally {
      await etcd.resume();
    }
    await waitFor(() => server.serverId !== undefined && server.serverId !== info.serverId && server.health.isServing(), {
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await sessionKeys(root)).length === 1 && (await sessionKeys(root))[0]!.endsWith(`-${server.serverId}`), {
      timeoutMs: 10_000,
    });
  });

  it('closes itself when the session is lost under the exit policy', async () => {
    const { root, server } = await startNode({ onSessionLost: 'exit' });
    server.session!.session!.pauseKeepaliveForTesting();
    const reason = await server.closed();
    expect(reason).toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    expect(server.health.state).toBe('stopping');
    expect(await sessionKeys(root)).toEqual([]);
  });

  it('closes promptly while a WAL open waits for timestamps from an unreachable coordinator', async () => {
    const opened: string[] = [];
    const { server, clients } = await startNode({
      coordAddress: () => undefined, // the active coordinator is unknown: the TSO can only wait
      wal: {
        opener: ({ tso }) => ({
          open: async (channel) => {
            await tso.allocate(1); // like the real opener's first time tick
            opened.push(channel.name);
            return new FakeWal(channel);
          },
        }),
      },
    });
    const pending = assign(clients.manager, 'by-dev-rootcoord-dml_0', 1n).catch((e: unknown) => e);
    await waitFor(() => server.tso instanceof RemoteTsoAllocator && server.tso.waiting === 1);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fromServiceError(await pending).code).toBe(StreamingCode.ON_SHUTDOWN);
    expect(opened).toEqual([]);
  });

  it('fails to start on a taken port without registering anything', async () => {
    const { info } = await startNode();
    const root = uniqueName('node-root');
    const taken = { ...nodeConfig(root), node: { ...nodeConfig(root).node, port: info.grpcPort } };
    const server = new NodeServer({ config: taken, wal: new FakeWalOpener() });
    await expect(server.start()).rejects.toMatchObject({ code: StreamingCode.INNER });
    expect(await server.closed()).toBeInstanceOf(Error);
    expect(await sessionKeys(root)).toEqual([]);
  });
});
