/**
 * A coordinator restart in the middle of an assignment (reference `milvus-coord.md` §2.5–2.6):
 * one fake node holds every Assign, so the first coordinator leaves its channels ASSIGNING when
 * it goes; the next coordinator recovers them from etcd and re-assigns them at a higher term.
 * No term is ever used twice for a channel, every channel ends ASSIGNED, and the new
 * coordinator's versions supersede the old one's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PChannelMetaState, type PChannelMeta } from '../../coord/catalog/index.js';
import { EtcdMetaKV, waitFor } from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { startFakeStreamingNode, type FakeStreamingNode } from '../harness/fake-streaming-node.js';
import { uniquePrefix } from '../harness/unique.js';
import { versionOf } from '../unit/coord/service/fixtures/services-fixture.js';
import { coordClients, coordTestConfig, listPChannels, newCoordinator, waitForAssigned } from './coord-server-fixture.js';

const PCHANNELS = 16;

let etcd: EtcdProcess;
let kv: EtcdMetaKV;
beforeAll(async () => {
  etcd = await startEtcd();
  kv = new EtcdMetaKV({ endpoints: [etcd.endpoint], requestTimeoutMs: 3_000 });
});
afterAll(async () => {
  await kv?.close();
  await etcd?.close();
});

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

describe('coordinator restart mid-assignment', () => {
  it('the next coordinator repairs the ASSIGNING channels at a higher term; no term is lost or reused', { timeout: 90_000 }, async () => {
    const rootPath = `${uniquePrefix('coord-server-restart')}meta`;
    const config = coordTestConfig({ endpoint: etcd.endpoint, rootPath, pchannels: PCHANNELS });
    const nodes: FakeStreamingNode[] = [];
    for (let i = 0; i < 3; i++) {
      const node = await startFakeStreamingNode({ kv, rootPath, ttlMs: 2_000 });
      cleanups.push(() => node.stop());
      nodes.push(node);
    }
    const stuck = nodes[2]!;
    stuck.hold({ method: 'Assign' });

    // First coordinator: the channels of the stuck node stay ASSIGNING, their Assign parked.
    const first = newCoordinator(config, undefined, 'coord-1');
    cleanups.push(() => first.close());
    const firstInfo = await first.start();
    expect(firstInfo.active).toBe(true);
    const midway = await waitFor(
      async () => {
        const metas = await listPChannels(kv, rootPath);
        const assigning = metas.filter((m) => m.state === PChannelMetaState.ASSIGNING);
        const settled = metas.filter((m) => m.state === PChannelMetaState.ASSIGNED).length + assigning.length === PCHANNELS;
        const allParked = assigning.length > 0 && assigning.every((m) => m.node?.serverId === stuck.serverId) && stuck.heldCount === assigning.length;
        return settled && allParked ? metas : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: 'the stuck node holds every Assign of its channels' },
    );
    const firstClients = coordClients(firstInfo.address);
    cleanups.push(() => firstClients.close());
    const firstVersion = versionOf(await firstClients.watch().until(() => true, 'a snapshot', 15_000));
    expect(firstVersion.global).toBe(firstInfo.serverId);

    // "Crash" mid-assignment: the balancer's round is aborted, nothing completes the ASSIGNING metas.
    await first.close();
    const afterCrash = await listPChannels(kv, rootPath);
    const stranded = afterCrash.filter((m) => m.state === PChannelMetaState.ASSIGNING);
    expect(stranded.map((m) => m.channel.name).sort()).toEqual(
      midway.filter((m) => m.state === PChannelMetaState.ASSIGNING).map((m) => m.channel.name).sort(),
    );

    // Second coordinator: recovers from etcd, re-assigns the stranded channels at term+1.
    const second = newCoordinator(config, undefined, 'coord-2');
    cleanups.push(() => second.close());
    const secondInfo = await second.start();
    expect(secondInfo.active).toBe(true);
    expect(secondInfo.serverId > firstInfo.serverId).toBe(true);
    stuck.release();

    const final = await waitForAssigned(kv, rootPath, PCHANNELS, () => true, 'every channel ASSIGNED again');
    expectTermsNeverReused(nodes, final);
    for (const before of stranded) {
      const after = final.find((m) => m.channel.name === before.channel.name)!;
      expect(after.channel.term > before.channel.term, before.channel.name).toBe(true);
    }
    // Channels that were ASSIGNED before the crash were left alone.
    for (const before of afterCrash.filter((m) => m.state === PChannelMetaState.ASSIGNED)) {
      const after = final.find((m) => m.channel.name === before.channel.name)!;
      expect(after.channel.term).toBe(before.channel.term);
      expect(after.node?.serverId).toBe(before.node?.serverId);
    }
    // The node that holds each channel has it open at the persisted term.
    for (const meta of final) {
      const holder = nodes.find((n) => n.serverId === meta.node?.serverId)!;
      expect(holder.openChannels().get(meta.channel.name)?.term, meta.channel.name).toBe(meta.channel.term);
    }
    const clients = coordClients(secondInfo.address);
    cleanups.push(() => clients.close());
    const secondVersion = versionOf(await clients.watch().until(() => true, 'a snapshot', 15_000));
    expect(secondVersion.global).toBe(secondInfo.serverId);
    expect(secondVersion.global > firstVersion.global).toBe(true);
  });
});

/**
 * Per channel, every Assign any node received carries a distinct term, and the last one issued
 * (the highest) is the persisted ASSIGNED term: terms only ever go up, across both coordinators.
 */
function expectTermsNeverReused(nodes: readonly FakeStreamingNode[], final: readonly PChannelMeta[]): void {
  for (const meta of final) {
    const terms = nodes.flatMap((n) => n.callsOf('Assign').filter((c) => c.channel?.name === meta.channel.name).map((c) => c.channel!.term));
    expect(new Set(terms).size, `${meta.channel.name} assign terms ${terms.join(',')}`).toBe(terms.length);
    const highest = terms.reduce((a, b) => (b > a ? b : a), 0n);
    expect(highest, meta.channel.name).toBe(meta.channel.term);
  }
}
