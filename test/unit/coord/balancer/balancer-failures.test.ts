/**
 * Balancer loop, failures between the phases (reference `milvus-coord.md` §2.5, §2.6): Assign and
 * Remove failures leave channels ASSIGNING and the next round repairs them at term+1; an unhealthy
 * node is drained; a coordinator restart mid-assignment converges; close aborts a hanging Assign.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PChannelMetaState } from '../../../../coord/catalog/index.js';
import { StreamingCode, StreamingError } from '../../../../shared/index.js';
import { FakeCatalog } from '../channel/fake-catalog.js';
import {
  type Harness,
  allAssigned,
  closeHarness,
  expectNodesMatchMeta,
  metas,
  placed,
  spread,
  startHarness,
  until,
} from './fakes/balancer-harness.js';
import { FakeNodeRegistry } from './fakes/fake-node-registry.js';

let h: Harness | undefined;
afterEach(async () => {
  if (h !== undefined) await closeHarness(h);
  h = undefined;
});

describe('balancer failures', () => {
  it('leaves a channel ASSIGNING when Assign fails on the target; the next round repairs it with term+1', async () => {
    h = await startHarness({ channelCount: 1, nodes: [1], noStart: true });
    h.registry.node(1).failNext('assign', 1);
    // The first Remove can only come from the repair round: hold it there to look at the state.
    const held = h.registry.node(1).hangNext('remove');
    await h.balancer.start();
    await held.reached;

    // Round 1 persisted ASSIGNING at term 2 and never ASSIGNED it: its Assign failed.
    expect(h.catalog.pchannelSaves[0]?.map((m) => [m.channel.term, m.state])).toEqual([[2n, PChannelMetaState.ASSIGNING]]);
    expect(h.registry.callsOf('assign').map((c) => [c.term, c.outcome])).toEqual([[2n, 'failed']]);
    // The backoff round re-assigns at term 3 and first removes the failed attempt (term 2).
    const repairing = h.channels.getMeta('dml_0');
    expect(repairing?.state).toBe(PChannelMetaState.ASSIGNING);
    expect(repairing?.channel.term).toBe(3n);
    expect(repairing?.histories.map((x) => [x.term, x.node.serverId])).toEqual([[2n, 1n]]);
    held.release();

    await until(h, allAssigned, 'repaired');
    const repaired = h.channels.getMeta('dml_0');
    expect(repaired?.channel.term).toBe(3n);
    expect(repaired?.histories).toEqual([]);
    const ops = h.registry.calls.filter((c) => c.op !== 'collectStatus').map((c) => `${c.op}@${c.term}:${c.outcome}`);
    expect(ops).toEqual(['assign@2:failed', 'remove@2:ok', 'assign@3:ok']);
    expectNodesMatchMeta(h);
  });

  it('does not Assign on the new node while a Remove on the old node fails', async () => {
    h = await startHarness({ channelCount: 2, nodes: [1] });
    await placed(h);
    h.registry.node(1).failNext('remove', 1);
    const start = h.registry.calls.length;

    h.registry.join(2);
    await until(h, (x) => allAssigned(x) && spread(x).length === 2, 'rebalanced after the remove recovered');
    const after = h.registry.calls.slice(start).filter((c) => c.op !== 'collectStatus');
    const moved = after.find((c) => c.op === 'remove' && c.outcome === 'failed')!.channel;
    const ops = after.filter((c) => c.channel === moved).map((c) => `${c.op}@${c.term}#${c.serverId}:${c.outcome}`);
    // Term 3 never reaches node 2: its Remove of term 2 failed. The backoff round opens term 4 and
    // first removes both older attempts (term 3 on node 2 holds nothing, which is fine).
    expect(ops).toEqual(['remove@2#1:failed', 'remove@2#1:ok', 'remove@3#2:ok', 'assign@4#2:ok']);
    expect(h.channels.getMeta(moved)?.channel.term).toBe(4n);
    expectNodesMatchMeta(h);
  });

  it('treats IGNORED_OPERATION / CHANNEL_NOT_EXIST from Remove as done', async () => {
    h = await startHarness({ channelCount: 2, nodes: [1] });
    await placed(h);
    h.registry.node(1).failNext('remove', 1, StreamingError.ignoredOperation('stale'));
    h.registry.join(2);
    await until(h, (x) => allAssigned(x) && spread(x).length === 2, 'moved despite ignored remove');
    const removes = h.registry.callsOf('remove');
    expect(removes.length).toBe(1);
    expect(removes[0]?.outcome).toBe('failed');
    // Moved in one attempt: term 3, no repair round needed.
    const moved = metas(h).find((m) => m.node?.serverId === 2n);
    expect(moved?.channel.term).toBe(3n);
  });

  it('treats a node whose CollectStatus fails as unhealthy for the pass and moves its channels', async () => {
    h = await startHarness({ channelCount: 4, nodes: [1, 2] });
    await placed(h);
    const onNode2 = metas(h).filter((m) => m.node?.serverId === 2n);
    const start = h.registry.calls.length;
    h.registry.node(2).failNext('collectStatus', 1);

    const outcome = await h.balancer.triggerBalance();
    expect(outcome.ok).toBe(true);
    const assigns = h.registry.calls.slice(start).filter((c) => c.op === 'assign');
    // First pass: node 2's channels go to node 1 at term+1. Node 2 answers again in the next
    // pass, and rebalancing (no minimum interval here) spreads the channels out again.
    for (const m of onNode2) {
      expect(assigns).toContainEqual(expect.objectContaining({ serverId: 1n, channel: m.channel.name, term: m.channel.term + 1n }));
    }
    expect(spread(h).map(([, n]) => n)).toEqual([2, 2]);
    expect(allAssigned(h)).toBe(true);
    expectNodesMatchMeta(h);
  });

  it('converges after a coordinator restart with channels left ASSIGNING, without reusing a term', async () => {
    const catalog = new FakeCatalog();
    const registry = new FakeNodeRegistry();
    const first = await startHarness({ channelCount: 4, nodes: [1, 2], catalog, registry });
    await placed(first);
    const termsBefore = new Map(metas(first).map((m) => [m.channel.name, m.channel.term]));

    // The first coordinator dies mid-move: the Assign on the joining node 3 never returns.
    registry.join(3);
    // Synchronously after the join: the round it triggers has not reached any Assign yet.
    const hang = registry.node(3).hangNext('assign');
    await hang.reached;
    await closeHarness(first);
    const stuck = [...catalog.pchannels.values()].filter((m) => m.state === PChannelMetaState.ASSIGNING);
    expect(stuck.length).toBeGreaterThan(0);
    expect(stuck.some((m) => m.node?.serverId === 3n)).toBe(true);

    h = await startHarness({ channelCount: 4, catalog, registry });
    await until(h, allAssigned, 'second coordinator converged');
    for (const m of metas(h)) {
      const before = termsBefore.get(m.channel.name) ?? 0n;
      expect(m.channel.term).toBeGreaterThanOrEqual(before);
      const persisted = catalog.pchannels.get(m.channel.name);
      expect(persisted?.state).toBe(PChannelMetaState.ASSIGNED);
    }
    for (const s of stuck) expect(h.channels.getMeta(s.channel.name)?.channel.term).toBe(s.channel.term + 1n);
    // Terms strictly increase per channel across every assign sent by both coordinators.
    const byChannel = new Map<string, bigint[]>();
    for (const c of registry.callsOf('assign')) byChannel.set(c.channel, [...(byChannel.get(c.channel) ?? []), c.term]);
    for (const terms of byChannel.values()) for (let i = 1; i < terms.length; i++) expect(terms[i]! > terms[i - 1]!).toBe(true);
    expectNodesMatchMeta(h);
  });

  it('aborts a hanging Assign promptly on close, leaving the channel ASSIGNING', async () => {
    h = await startHarness({ channelCount: 1, nodes: [1], noStart: true, balancer: { operationTimeoutMs: 600_000 } });
    const held = h.registry.node(1).hangNext('assign');
    await h.balancer.start();
    await held.reached;
    const t0 = Date.now();
    await h.balancer.close();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(h.registry.callsOf('assign')[0]?.outcome).toBe('aborted');
    expect(h.channels.getMeta('dml_0')?.state).toBe(PChannelMetaState.ASSIGNING);
    await expect(h.balancer.triggerBalance()).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    await h.balancer.close(); // idempotent
  });
});
