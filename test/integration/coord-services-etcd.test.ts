/**
 * The coordinator services on the real stores: MetaCatalog and PersistedTsoAllocator on a real
 * etcd child process, gRPC on loopback. A coordinator "restart" (everything rebuilt over the same
 * etcd prefix) still lists the vchannels allocated before, places new ones on the least-loaded
 * pchannels, and hands out only larger timestamps.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Balancer, defaultBalancePolicyConfig } from '../../coord/balancer/index.js';
import { MetaCatalog } from '../../coord/catalog/index.js';
import { ChannelManager } from '../../coord/channel/index.js';
import { registerCoordinatorServices } from '../../coord/service/index.js';
import { PersistedTsoAllocator } from '../../coord/tso/index.js';
import { VChannelAllocator } from '../../coord/vchannel/index.js';
import { EtcdMetaKV, clientConstructors, pchannelNames } from '../../shared/index.js';
import type { ProtoOutput, TsoServiceClient, WalAdminServiceClient } from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { uniquePrefix } from '../harness/unique.js';
import { FakeNodeRegistry } from '../unit/coord/balancer/fakes/fake-node-registry.js';
import { unary } from '../unit/coord/service/fixtures/services-fixture.js';

let etcd: EtcdProcess;
let kv: EtcdMetaKV;
beforeAll(async () => {
  etcd = await startEtcd();
  kv = new EtcdMetaKV({ endpoints: [etcd.endpoint], requestTimeoutMs: 2_000 });
});
afterAll(async () => {
  await kv?.close();
  await etcd?.close();
});

const PCHANNELS = pchannelNames('by-dev', 8);

interface Coordinator {
  readonly admin: WalAdminServiceClient;
  readonly tso: TsoServiceClient;
  close(): Promise<void>;
}

/** Builds one coordinator (without election) over `rootPath`, serving on a fresh port. */
async function startCoordinator(rootPath: string, serverId: bigint, registry: FakeNodeRegistry): Promise<Coordinator> {
  const catalog = new MetaCatalog(kv, { rootPath });
  const channels = await ChannelManager.recover(catalog, { serverId, pchannelNames: PCHANNELS });
  const tso = new PersistedTsoAllocator({ kv, rootPath, retryBackoff: { initialMs: 5, maxMs: 50 } });
  await tso.start();
  let balancer: Balancer | undefined;
  const vchannels = await VChannelAllocator.recover({ catalog, tso, pchannels: PCHANNELS, onChange: () => balancer?.notify('vchannels') });
  balancer = new Balancer({
    channels,
    registry,
    vchannelStats: vchannels.vchannelStats,
    policyConfig: defaultBalancePolicyConfig({ minRebalanceIntervalMs: 0 }),
    triggerIntervalMs: 3_600_000,
  });
  await balancer.start();
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const address = `127.0.0.1:${port}`;
  const services = registerCoordinatorServices(server, { channels, registry, balancer, vchannels, tso, activeCoordinator: () => ({ serverId, address }) });
  const ctor = clientConstructors();
  const admin = new ctor.walAdmin(address, grpc.credentials.createInsecure());
  const tsoClient = new ctor.tso(address, grpc.credentials.createInsecure());
  return {
    admin,
    tso: tsoClient,
    async close() {
      admin.close();
      tsoClient.close();
      await services.close();
      server.forceShutdown();
      await balancer?.close();
      channels.close();
      await tso.close();
    },
  };
}

type Listed = ProtoOutput<'streamingwal.v1.ListVChannelsResponse'>;
type Allocated = ProtoOutput<'streamingwal.v1.AllocateVChannelsResponse'>;
type Timestamps = ProtoOutput<'streamingwal.v1.AllocateTimestampsResponse'>;

describe('coordinator services on etcd', () => {
  const open: Coordinator[] = [];
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((c) => c.close()));
  });

  it('vchannels and timestamps survive a coordinator restart', async () => {
    const rootPath = `${uniquePrefix('coord-services')}meta`;
    const registry = new FakeNodeRegistry();
    registry.join(1, 2);

    const first = await startCoordinator(rootPath, 10n, registry);
    open.push(first);
    const a = await unary<Allocated>((cb) => first.admin.AllocateVChannels({ collection_id: '0', count: 3 }, cb));
    const b = await unary<Allocated>((cb) => first.admin.AllocateVChannels({ collection_id: '501', count: 2 }, cb));
    await unary((cb) => first.admin.DropVChannels({ vchannels: [b.vchannels[1]!.vchannel] }, cb));
    const ts1 = await unary<Timestamps>((cb) => first.tso.AllocateTimestamps({ count: 10 }, cb));
    const before = await unary<Listed>((cb) => first.admin.ListVChannels({ include_dropped: true }, cb));
    expect(before.vchannels).toHaveLength(5);
    await first.close();
    open.splice(0);

    const second = await startCoordinator(rootPath, 11n, registry);
    open.push(second);
    const after = await unary<Listed>((cb) => second.admin.ListVChannels({ include_dropped: true }, cb));
    expect(after.vchannels).toEqual(before.vchannels);
    expect(after.vchannels.filter((v) => v.state === 'VCHANNEL_STATE_DROPPED').map((v) => v.vchannel)).toEqual([b.vchannels[1]!.vchannel]);
    // dml_0..2 hold collection a, dml_3 holds 501v0 (501v1 on dml_4 was dropped): next goes to dml_4.
    const c = await unary<Allocated>((cb) => second.admin.AllocateVChannels({ collection_id: '0', count: 1 }, cb));
    expect(c.vchannels[0]!.pchannel).toBe(PCHANNELS[4]);
    expect(BigInt(c.collection_id) > BigInt(a.collection_id)).toBe(true);
    const ts2 = await unary<Timestamps>((cb) => second.tso.AllocateTimestamps({ count: 1 }, cb));
    expect(BigInt(ts2.timestamp) > BigInt(ts1.timestamp) + 9n).toBe(true);
  });
});
