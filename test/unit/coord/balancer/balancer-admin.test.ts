/**
 * Balancer loop, admin and policy controls (reference `milvus-coord.md` §3.4–3.6, §6.1, §9
 * `TestBalancer`, `TestBalancer_WithRecoveryLag`): freeze / defreeze, allowRebalance, the minimum
 * rebalance interval, recovery lag, error reports and `triggerBalance`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PChannelMetaState } from '../../../../coord/catalog/index.js';
import { StreamingCode, pchannelInfo } from '../../../../shared/index.js';
import { type Harness, allAssigned, closeHarness, expectNodesMatchMeta, metas, placed, spread, startHarness, until } from './fakes/balancer-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  if (h !== undefined) await closeHarness(h);
  h = undefined;
});

const assignsSince = (x: Harness, from: number): number => x.registry.calls.slice(from).filter((c) => c.op === 'assign').length;

describe('balancer admin controls', () => {
  it('drains a frozen node, gives it nothing new, and uses it again once defrozen', async () => {
    h = await startHarness({ channelCount: 6, nodes: [1, 2, 3] });
    await placed(h);

    const state = await h.balancer.updateBalancePolicy({ freezeNodeIds: [1n], updateMask: [] });
    expect(state).toEqual({ allowRebalance: true, frozenNodeIds: [1n] });
    await h.balancer.triggerBalance();
    expect(spread(h).map(([id]) => id)).toEqual([2n, 3n]);
    expect(h.registry.node(1).open.size).toBe(0); // its WALs were removed, not just forgotten
    expectNodesMatchMeta(h);

    // A lost channel is not placed on the frozen node either.
    h.registry.leave(3);
    await until(h, (x) => allAssigned(x) && spread(x).length === 1, 'node 3 channels placed');
    expect(spread(h)).toEqual([[2n, 6]]);

    const defrozen = await h.balancer.updateBalancePolicy({ defreezeNodeIds: [1n], updateMask: [] });
    expect(defrozen.frozenNodeIds).toEqual([]);
    await h.balancer.triggerBalance();
    expect(spread(h).map(([, n]) => n)).toEqual([3, 3]);
    expectNodesMatchMeta(h);
  });

  it('forgets the freeze of a node that leaves, and ignores freezing an unknown node', async () => {
    h = await startHarness({ channelCount: 2, nodes: [1, 2] });
    await placed(h);
    expect((await h.balancer.updateBalancePolicy({ freezeNodeIds: [2n, 99n], updateMask: [] })).frozenNodeIds).toEqual([2n]);
    h.registry.leave(2);
    expect(h.balancer.balancePolicy().frozenNodeIds).toEqual([]);
    h.registry.join(2); // back with a fresh session: not frozen any more
    await h.balancer.triggerBalance();
    expect(spread(h).map(([, n]) => n)).toEqual([1, 1]);
  });

  it('with allowRebalance=false gives a new node nothing but still places a lost channel', async () => {
    h = await startHarness({ channelCount: 4, nodes: [1, 2] });
    await placed(h);
    const state = await h.balancer.updateBalancePolicy({ allowRebalance: false, updateMask: ['config.allow_rebalance'] });
    expect(state.allowRebalance).toBe(false);

    h.registry.join(3);
    const start = h.registry.calls.length;
    await h.balancer.triggerBalance();
    expect(assignsSince(h, start)).toBe(0);
    expect(spread(h).map(([id]) => id)).toEqual([1n, 2n]);

    h.registry.leave(2);
    await until(h, (x) => allAssigned(x) && !spread(x).some(([id]) => id === 2n), 'lost channels placed');
    // Lost channels are placed by score (node 3 is empty), but nothing placed on node 1 moved.
    expect(spread(h).map(([, n]) => n)).toEqual([2, 2]);

    await h.balancer.updateBalancePolicy({ allowRebalance: true, updateMask: ['config.allow_rebalance'] });
    expect(h.balancer.balancePolicy().allowRebalance).toBe(true);
  });

  it('applies Milvus field-mask semantics to updateBalancePolicy', async () => {
    h = await startHarness({ channelCount: 1, nodes: [1] });
    // An empty mask changes no config field.
    expect((await h.balancer.updateBalancePolicy({ allowRebalance: false, updateMask: [] })).allowRebalance).toBe(true);
    // No mask: every field is applied, a missing allowRebalance meaning false (proto3 default).
    expect((await h.balancer.updateBalancePolicy({ freezeNodeIds: [1n] })).allowRebalance).toBe(false);
    expect((await h.balancer.updateBalancePolicy({ allowRebalance: true })).allowRebalance).toBe(true);
    // Freeze then defreeze in one request: defreeze wins.
    expect((await h.balancer.updateBalancePolicy({ freezeNodeIds: [1n], defreezeNodeIds: [1n], updateMask: [] })).frozenNodeIds).toEqual([]);
    // Unknown paths are rejected and nothing changes.
    await expect(h.balancer.updateBalancePolicy({ allowRebalance: false, freezeNodeIds: [1n], updateMask: ['config.nope'] })).rejects.toMatchObject({
      code: StreamingCode.INVAILD_ARGUMENT,
    });
    expect(h.balancer.balancePolicy()).toEqual({ allowRebalance: true, frozenNodeIds: [] });
  });

  it('does not move a channel assigned less than the minimum interval ago', async () => {
    h = await startHarness({ channelCount: 4, nodes: [1], policyConfig: { minRebalanceIntervalMs: 60_000 } });
    await placed(h);
    h.registry.join(2);
    const start = h.registry.calls.length;
    await h.balancer.triggerBalance();
    expect(assignsSince(h, start)).toBe(0);
    expect(spread(h)).toEqual([[1n, 4]]);

    h.clock.advance(60_000);
    const second = h.registry.calls.length;
    await h.balancer.triggerBalance();
    expect(spread(h).map(([, n]) => n)).toEqual([2, 2]);
    const justMoved = h.registry.calls.slice(second).filter((c) => c.op === 'assign').map((c) => c.channel);
    expect(justMoved.length).toBe(2);

    // Another node joins a little later: only channels assigned long enough ago may move.
    h.clock.advance(1_000);
    h.registry.join(3);
    const third = h.registry.calls.length;
    await h.balancer.triggerBalance();
    const movedNow = h.registry.calls.slice(third).filter((c) => c.op === 'assign').map((c) => c.channel);
    expect(movedNow.length).toBeGreaterThan(0);
    for (const name of justMoved) expect(movedNow).not.toContain(name);
  });

  it('does not move a WAL whose recovery lag is above the threshold until it catches up', async () => {
    h = await startHarness({ channelCount: 4, nodes: [1] });
    await placed(h);
    h.registry.node(1).setRecoveryLagMs(10_000);
    h.registry.join(2);
    await h.balancer.triggerBalance();
    expect(spread(h)).toEqual([[1n, 4]]);
    h.registry.node(1).setRecoveryLagMs(0);
    await h.balancer.triggerBalance();
    expect(spread(h).map(([, n]) => n)).toEqual([2, 2]);
  });

  it('re-opens a channel reported at its current term at term+1; a stale report changes nothing', async () => {
    h = await startHarness({ channelCount: 2, nodes: [1] });
    await placed(h);
    const start = h.registry.calls.length;

    await h.balancer.reportError(pchannelInfo('dml_0', 1n));
    await h.balancer.triggerBalance();
    expect(assignsSince(h, start)).toBe(0);
    expect(h.channels.getMeta('dml_0')).toMatchObject({ state: PChannelMetaState.ASSIGNED, channel: { term: 2n } });

    await h.balancer.reportError(pchannelInfo('dml_0', 2n));
    await until(h, (x) => x.channels.getMeta('dml_0')?.channel.term === 3n && allAssigned(x), 're-opened at term 3');
    expect(h.channels.getMeta('dml_0')?.node?.serverId).toBe(1n);
    expect(h.registry.node(1).open.get('dml_0')).toBe(3n);
    await expect(h.balancer.reportError(pchannelInfo('nope', 2n))).rejects.toMatchObject({ code: StreamingCode.CHANNEL_NOT_EXIST });
  });

  it('triggerBalance waits for a round that starts after the call', async () => {
    h = await startHarness({ channelCount: 1, nodes: [1] });
    await placed(h);
    const held = h.registry.node(1).hangNext('collectStatus');
    const running = h.balancer.triggerBalance();
    await held.reached; // that round is now in flight
    let freshDone = false;
    const fresh = h.balancer.triggerBalance().then((o) => {
      freshDone = true;
      return o;
    });
    held.release();
    const first = await running;
    expect(freshDone).toBe(false);
    const second = await fresh;
    expect(second.round).toBeGreaterThan(first.round);

    const aborted = new AbortController();
    const blocked = h.registry.node(1).hangNext('collectStatus');
    const pending = h.balancer.triggerBalance({ signal: aborted.signal });
    await blocked.reached;
    aborted.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    blocked.release();
  });

  it('rejects calls after close with ON_SHUTDOWN', async () => {
    h = await startHarness({ channelCount: 1, nodes: [1] });
    await h.balancer.close();
    await expect(h.balancer.updateBalancePolicy({ updateMask: [] })).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    await expect(h.balancer.reportError(pchannelInfo('dml_0', 2n))).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    await expect(h.balancer.triggerBalance()).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    expect(await h.balancer.closed()).toBeUndefined();
  });
});
