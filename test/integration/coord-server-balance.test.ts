/**
 * The coordinator server end to end in one process: a real etcd, an in-process CoordinatorServer
 * (election, catalog, TSO, node registry, balancer, gRPC), fake streaming nodes with real
 * sessions, raw gRPC clients. The balance acceptance cases:
 * - 3 nodes and 16 pchannels end up 5 or 6 per node, all ASSIGNED, and AssignmentDiscover shows it;
 * - a node that stops gracefully, and one that is killed (its lease expires), has its channels
 *   re-assigned at term+1, and a discovery watcher sees it;
 * - a node frozen through UpdateWALBalancePolicy is drained.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PChannelMeta } from '../../coord/catalog/index.js';
import type { CoordinatorServer } from '../../coord/index.js';
import { EtcdMetaKV } from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { startFakeStreamingNode, type FakeStreamingNode } from '../harness/fake-streaming-node.js';
import { uniquePrefix } from '../harness/unique.js';
import { channelsByNode, versionOf, type FullAssignmentOutput } from '../unit/coord/service/fixtures/services-fixture.js';
import {
  type CoordClients,
  assignedByNode,
  coordClients,
  coordTestConfig,
  newCoordinator,
  unary,
  waitForAssigned,
} from './coord-server-fixture.js';

const PCHANNELS = 16;
const NODE_TTL_MS = 2_000;

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

interface Cluster {
  readonly rootPath: string;
  readonly nodes: FakeStreamingNode[];
  readonly coord: CoordinatorServer;
  readonly clients: CoordClients;
  /** The persisted metas once all 16 channels are ASSIGNED over the 3 nodes. */
  readonly settled: PChannelMeta[];
}

/** Three fake nodes, then an active coordinator; waits for the even spread. */
async function startCluster(): Promise<Cluster> {
  const rootPath = `${uniquePrefix('coord-server-balance')}meta`;
  const nodes: FakeStreamingNode[] = [];
  for (let i = 0; i < 3; i++) {
    const node = await startFakeStreamingNode({ kv, rootPath, ttlMs: NODE_TTL_MS });
    cleanups.push(() => node.stop());
    nodes.push(node);
  }
  const coord = newCoordinator(coordTestConfig({ endpoint: etcd.endpoint, rootPath, pchannels: PCHANNELS }));
  cleanups.push(() => coord.close());
  const info = await coord.start();
  expect(info.active).toBe(true);
  const clients = coordClients(info.address);
  cleanups.push(() => clients.close());
  const settled = await waitForAssigned(kv, rootPath, PCHANNELS, (metas) => evenOver(metas, nodes), 'even spread over 3 nodes');
  return { rootPath, nodes, coord, clients, settled };
}

function evenOver(metas: readonly PChannelMeta[], nodes: readonly FakeStreamingNode[]): boolean {
  const byNode = assignedByNode(metas);
  return nodes.every((n) => {
    const count = byNode.get(n.serverId)?.length ?? 0;
    return count === 5 || count === 6;
  });
}

/** `name@term` of every channel persisted on `serverId`. */
function channelsOf(metas: readonly PChannelMeta[], serverId: bigint): Map<string, bigint> {
  return new Map(metas.filter((m) => m.node?.serverId === serverId).map((m) => [m.channel.name, m.channel.term]));
}

/** What a discovery snapshot says, as `server id → name@term` sorted lists. */
function discovered(a: FullAssignmentOutput): Map<string, string[]> {
  return new Map([...channelsByNode(a)].map(([id, chans]) => [id, [...chans].sort()]));
}

/** The same map from persisted metas (ASSIGNED only), for the nodes given. */
function persisted(metas: readonly PChannelMeta[], nodes: readonly bigint[]): Map<string, string[]> {
  const out = new Map<string, string[]>(nodes.map((id) => [id.toString(), []]));
  for (const [id, names] of assignedByNode(metas)) {
    const terms = channelsOf(metas, id);
    out.set(id.toString(), names.map((n) => `${n}@${terms.get(n)}`).sort());
  }
  return out;
}

describe('coordinator server: balance (real etcd, fake nodes)', () => {
  it('spreads 16 pchannels over 3 nodes 5 or 6 each, all ASSIGNED, and AssignmentDiscover shows it', { timeout: 60_000 }, async () => {
    const { nodes, coord, clients, settled } = await startCluster();
    const ids = nodes.map((n) => n.serverId);
    // Every node opened exactly what the catalog says it holds, at the persisted term.
    for (const node of nodes) {
      const open = new Map([...node.openChannels()].map(([name, info]) => [name, info.term]));
      expect(open).toEqual(channelsOf(settled, node.serverId));
    }
    const w = clients.watch();
    const expected = persisted(settled, ids);
    const snapshot = await w.until((a) => sameMap(discovered(a), expected), 'discovery matches the catalog', 15_000);
    // The active coordinator's server id is the version's global part.
    expect(versionOf(snapshot).global).toBe(coord.info().serverId);
    expect(snapshot.cchannel?.meta?.pchannel).toBe('by-dev-rootcoord-dml_0');
  });

  it('a node that stops gracefully: its channels move to the others at term+1, and a watcher sees it', { timeout: 60_000 }, async () => {
    const { rootPath, nodes, clients, settled } = await startCluster();
    const w = clients.watch();
    await w.until((a) => a.assignments.length === 3, 'three nodes discovered', 15_000);
    const [leaving, ...staying] = nodes as [FakeStreamingNode, ...FakeStreamingNode[]];
    const before = channelsOf(settled, leaving.serverId);
    await leaving.stop();
    const after = await waitForAssigned(kv, rootPath, PCHANNELS, (m) => channelsOf(m, leaving.serverId).size === 0, 'channels moved off the stopped node');
    expectMovedAtNextTerm(before, after, staying);
    const expected = persisted(after, staying.map((n) => n.serverId));
    await w.until((a) => sameMap(discovered(a), expected), 'watcher sees the move', 15_000);
  });

  it('a killed node: once its lease expires its channels are re-assigned at term+1, and a watcher sees it', { timeout: 60_000 }, async () => {
    const { rootPath, nodes, clients, settled } = await startCluster();
    const w = clients.watch();
    await w.until((a) => a.assignments.length === 3, 'three nodes discovered', 15_000);
    const [killed, ...staying] = nodes as [FakeStreamingNode, ...FakeStreamingNode[]];
    const before = channelsOf(settled, killed.serverId);
    const killedAt = Date.now();
    await killed.kill();
    const after = await waitForAssigned(kv, rootPath, PCHANNELS, (m) => channelsOf(m, killed.serverId).size === 0, 'channels moved off the killed node');
    // Nothing moved before the session could expire (no balance round had a reason to run).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(NODE_TTL_MS - 1_000);
    expectMovedAtNextTerm(before, after, staying);
    const expected = persisted(after, staying.map((n) => n.serverId));
    await w.until((a) => sameMap(discovered(a), expected), 'watcher sees the move', 15_000);
  });

  it('a node frozen through UpdateWALBalancePolicy is drained', { timeout: 60_000 }, async () => {
    const { rootPath, nodes, clients, settled } = await startCluster();
    const [frozen, ...others] = nodes as [FakeStreamingNode, ...FakeStreamingNode[]];
    const before = channelsOf(settled, frozen.serverId);
    const res = await unary<{ freeze_node_ids: string[] }>((cb) =>
      clients.assignment.UpdateWALBalancePolicy({ nodes: { freeze_node_ids: [frozen.serverId.toString()] } }, cb),
    );
    expect(res.freeze_node_ids).toEqual([frozen.serverId.toString()]);
    const after = await waitForAssigned(kv, rootPath, PCHANNELS, (m) => channelsOf(m, frozen.serverId).size === 0, 'frozen node drained');
    expectMovedAtNextTerm(before, after, others);
    // The frozen node closed every WAL (Remove), and stays in discovery with no channel.
    expect(frozen.openChannels().size).toBe(0);
    const w = clients.watch();
    const snap = await w.until((a) => (channelsByNode(a).get(frozen.serverId.toString()) ?? ['?']).length === 0, 'frozen node listed empty', 15_000);
    expect(snap.assignments).toHaveLength(3);
  });
});

/** Every channel of `before` now sits ASSIGNED on one of `targets` at exactly term+1, and that node opened it. */
function expectMovedAtNextTerm(before: ReadonlyMap<string, bigint>, after: readonly PChannelMeta[], targets: readonly FakeStreamingNode[]): void {
  expect(before.size).toBeGreaterThan(0);
  for (const [name, term] of before) {
    const meta = after.find((m) => m.channel.name === name);
    expect(meta?.channel.term, name).toBe(term + 1n);
    const target = targets.find((n) => n.serverId === meta?.node?.serverId);
    expect(target, `${name} on a remaining node`).toBeDefined();
    expect(target!.openChannels().get(name)?.term).toBe(term + 1n);
  }
}

function sameMap(a: ReadonlyMap<string, string[]>, b: ReadonlyMap<string, string[]>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => JSON.stringify(b.get(k)) === JSON.stringify(v));
}
