/**
 * Balancer loop, placement (reference `milvus-coord.md` §9 "Balancer"): initial spread, a node
 * leaving, a node joining, and no nodes at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PChannelMetaState } from '../../../../coord/catalog/index.js';
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

let h: Harness | undefined;
afterEach(async () => {
  if (h !== undefined) await closeHarness(h);
  h = undefined;
});

describe('balancer placement', () => {
  it('places 16 pchannels evenly over 3 nodes, every one ASSIGNED at term 2 with exactly its Assign', async () => {
    h = await startHarness({ channelCount: 16, nodes: [1, 2, 3] });
    await until(h, allAssigned, 'all 16 channels assigned');

    const counts = spread(h).map(([, n]) => n);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(16);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    for (const m of metas(h)) {
      expect(m.channel.term).toBe(2n);
      expect(m.histories).toEqual([]);
    }
    // Each node got exactly one Assign per channel it owns, at term 2, and nothing else to move.
    for (const node of [1n, 2n, 3n]) {
      const owned = metas(h).filter((m) => m.node?.serverId === node).map((m) => m.channel.name).sort();
      const assigns = h.registry.callsOf('assign', node);
      expect(assigns.map((c) => c.channel).sort()).toEqual(owned);
      expect(assigns.every((c) => c.term === 2n)).toBe(true);
    }
    expect(h.registry.callsOf('remove')).toEqual([]);
    expectNodesMatchMeta(h);

    // Nothing to do on the next round.
    const before = h.registry.calls.filter((c) => c.op !== 'collectStatus').length;
    const outcome = await h.balancer.triggerBalance();
    expect(outcome).toMatchObject({ ok: true, changed: 0 });
    expect(h.registry.calls.filter((c) => c.op !== 'collectStatus').length).toBe(before);
  });

  it('moves the channels of a node that left to the others at term+1, removing only on live nodes', async () => {
    h = await startHarness({ channelCount: 6, nodes: [1, 2, 3] });
    await placed(h);
    const lost = metas(h).filter((m) => m.node?.serverId === 3n);
    expect(lost.length).toBe(2);
    const callsBefore = h.registry.calls.length;

    h.registry.leave(3);
    await until(h, (x) => allAssigned(x) && metas(x).every((m) => m.node?.serverId !== 3n), 'node 3 drained');

    for (const old of lost) {
      const now = h.channels.getMeta(old.channel.name);
      expect(now?.channel.term).toBe(old.channel.term + 1n);
      expect(now?.state).toBe(PChannelMetaState.ASSIGNED);
    }
    const after = h.registry.calls.slice(callsBefore);
    // Node 3 is gone: no call reaches it (its close cannot be confirmed; the term fences it).
    expect(after.filter((c) => c.serverId === 3n)).toEqual([]);
    expect(after.filter((c) => c.op === 'assign').map((c) => c.channel).sort()).toEqual(lost.map((m) => m.channel.name).sort());
    expect(spread(h).map(([, n]) => n)).toEqual([3, 3]);
    expectNodesMatchMeta(h);
  });

  it('moves channels to a joining node, Remove on the old node strictly before Assign on the new one', async () => {
    h = await startHarness({ channelCount: 6, nodes: [1, 2] });
    await placed(h);
    const callsBefore = h.registry.calls.length;

    h.registry.join(3);
    await until(h, (x) => allAssigned(x) && spread(x).some(([id, n]) => id === 3n && n > 0), 'node 3 got channels');
    expect(spread(h).map(([, n]) => n)).toEqual([2, 2, 2]);

    const after = h.registry.calls.slice(callsBefore).filter((c) => c.op !== 'collectStatus');
    const moved = after.filter((c) => c.op === 'assign' && c.serverId === 3n);
    expect(moved.length).toBe(2);
    for (const assign of moved) {
      const removeIdx = after.findIndex((c) => c.op === 'remove' && c.channel === assign.channel);
      const assignIdx = after.indexOf(assign);
      expect(removeIdx).toBeGreaterThanOrEqual(0);
      expect(removeIdx).toBeLessThan(assignIdx);
      const remove = after[removeIdx]!;
      expect(remove.serverId).not.toBe(3n);
      expect(remove.term).toBe(assign.term - 1n);
      expect(remove.outcome).toBe('ok');
    }
    expectNodesMatchMeta(h);
  });

  it('backs off without crashing while no node is live, then places everything once one arrives', async () => {
    h = await startHarness({ channelCount: 4, nodes: [] });
    const outcome = await h.balancer.triggerBalance();
    expect(outcome.ok).toBe(false);
    expect(outcome.error?.message).toMatch(/no streaming node/);
    expect(metas(h).every((m) => m.state === PChannelMetaState.UNINITIALIZED)).toBe(true);
    // Still alive: later rounds fail the same way and persist nothing.
    const again = await h.balancer.triggerBalance();
    expect(again.round).toBeGreaterThan(outcome.round);
    expect(again.ok).toBe(false);
    expect(h.catalog.pchannelSaves).toEqual([]);

    h.registry.join(7);
    await until(h, allAssigned, 'placed on the first node');
    expect(spread(h)).toEqual([[7n, 4]]);
    expect(metas(h).every((m) => m.channel.term === 2n)).toBe(true);
  });

  it('drains a stopping node like a frozen one', async () => {
    h = await startHarness({ channelCount: 4, nodes: [1, 2] });
    await placed(h);
    h.registry.stop(2);
    await until(h, (x) => allAssigned(x) && spread(x).length === 1, 'node 2 drained');
    expect(spread(h)).toEqual([[1n, 4]]);
    // A stopping node is still live: its old terms were removed there.
    expect(h.registry.node(2).open.size).toBe(0);
  });
});
