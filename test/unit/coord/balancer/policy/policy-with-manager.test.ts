/**
 * The two halves together, without RPCs: the policy's output feeds the channel manager's phase 1,
 * and the manager's layout feeds the next round (what the balancer loop does around them).
 */
import { describe, expect, it } from 'vitest';
import { defaultBalancePolicyConfig, getBalancePolicy, type BalanceLayout, type LayoutNode } from '../../../../../coord/balancer/policy/index.js';
import { PChannelMetaState } from '../../../../../coord/catalog/index.js';
import { ChannelManager, assignHistories, isAssigned } from '../../../../../coord/channel/index.js';
import { pchannelInfo } from '../../../../../shared/index.js';
import { FakeCatalog } from '../../channel/fake-catalog.js';

const NOW_MS = 1_700_000_000_000;

function layoutFrom(cm: ChannelManager, nodes: LayoutNode[]): BalanceLayout {
  return {
    channels: cm.currentLayout().channels.map((m) => ({
      name: m.channel.name,
      term: m.channel.term,
      node: isAssigned(m) ? m.node?.serverId : undefined,
      lastAssignSeconds: m.lastAssignTimestampSeconds,
      vchannelCount: 0,
    })),
    nodes,
    config: defaultBalancePolicyConfig(),
    nowMs: NOW_MS,
  };
}

/** One balance round: policy → phase 1 → (Remove/Assign RPCs elided) → phase 2. Returns the changed names. */
async function round(cm: ChannelManager, nodes: LayoutNode[]): Promise<string[]> {
  const result = getBalancePolicy().balance(layoutFrom(cm, nodes));
  if (result.kind !== 'assignments') throw new Error('no node');
  const changed = await cm.assignPChannels(result.assignments);
  await cm.assignPChannelsDone([...changed.keys()]);
  return [...changed.keys()];
}

const n = (id: number, frozen = false): LayoutNode => ({ serverId: BigInt(id), address: `n${id}`, frozen, stopping: false });

describe('policy + channel manager rounds', () => {
  it('places, stays put, drains a frozen node with histories, and repairs an unavailable channel', async () => {
    const catalog = new FakeCatalog();
    const cm = await ChannelManager.recover(catalog, { serverId: 9n, pchannelNames: ['p0', 'p1', 'p2', 'p3'], nowMs: () => NOW_MS });

    expect(await round(cm, [n(1), n(2)])).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(cm.currentAssignments().nodes.map((a) => a.channels.length)).toEqual([2, 2]);
    expect(await round(cm, [n(1), n(2)])).toEqual([]);

    // Freezing node 1 moves its channels although they were assigned just now.
    const onNode1 = cm.currentAssignments().nodes[0]!.channels.map((c) => c.name);
    const result = getBalancePolicy().balance(layoutFrom(cm, [n(1, true), n(2)]));
    if (result.kind !== 'assignments') throw new Error('no node');
    const phase1 = await cm.assignPChannels(result.assignments);
    expect([...phase1.keys()]).toEqual(onNode1);
    for (const meta of phase1.values()) {
      expect(meta.state).toBe(PChannelMetaState.ASSIGNING);
      expect(assignHistories(meta).map((h) => h.node.serverId)).toEqual([1n]);
    }
    await cm.assignPChannelsDone([...phase1.keys()]);
    expect(cm.currentAssignments().nodes.map((a) => [a.node.serverId, a.channels.length])).toEqual([[2n, 4]]);

    // A client reports p0 broken at its current term: the next round re-opens it at term+1.
    const p0 = cm.getMeta('p0')!;
    await cm.markAsUnavailable(pchannelInfo('p0', p0.channel.term));
    expect(await round(cm, [n(1, true), n(2)])).toEqual(['p0']);
    expect(cm.getMeta('p0')?.channel.term).toBe(p0.channel.term + 1n);
    expect(catalog.pchannels.get('p0')).toBe(cm.getMeta('p0'));
  });
});
