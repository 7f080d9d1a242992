import { describe, expect, it } from 'vitest';
import { PChannelMetaState } from '../../../../coord/catalog/index.js';
import type { ChannelManagerSnapshot } from '../../../../coord/channel/index.js';
import { StreamingCode, StreamingError, pchannelInfo } from '../../../../shared/index.js';
import { FakeCatalog } from './fake-catalog.js';
import { A, B, NAMES, SERVER_ID, clock, expectCode, expected, recover } from './manager-fixtures.js';

describe('ChannelManager two-phase assignment', () => {
  it('phase 1 persists every changed meta in one save, then swaps memory and bumps the version', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    const changed = await cm.assignPChannels(expected([['dml_0', A], ['dml_1', B], ['dml_2', A]]));
    expect([...changed.keys()]).toEqual(['dml_0', 'dml_1', 'dml_2']);
    expect(catalog.pchannelSaves).toHaveLength(1);
    expect(catalog.pchannelSaves[0]!.map((m) => [m.channel.name, m.channel.term, m.state, m.node?.serverId])).toEqual([
      ['dml_0', 2n, PChannelMetaState.ASSIGNING, 1n],
      ['dml_1', 2n, PChannelMetaState.ASSIGNING, 2n],
      ['dml_2', 2n, PChannelMetaState.ASSIGNING, 1n],
    ]);
    expect(cm.getMeta('dml_1')).toBe(changed.get('dml_1'));
    expect(cm.version.local).toBe(1n);
    // ASSIGNING is not served yet.
    expect(cm.currentAssignments().nodes).toEqual([]);
  });

  it('phase 1 does not change memory before the save returns', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    const before = cm.snapshot();
    const held = catalog.holdNextSave();
    const pending = cm.assignPChannels(expected([['dml_0', A]]));
    await held.reached;
    expect(cm.snapshot()).toBe(before);
    expect(cm.getMeta('dml_0')?.state).toBe(PChannelMetaState.UNINITIALIZED);
    held.release();
    await pending;
    expect(cm.getMeta('dml_0')?.state).toBe(PChannelMetaState.ASSIGNING);
  });

  it('unchanged expectations (already ASSIGNED there) save nothing and keep the version', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    await cm.assignPChannels(expected([['dml_0', A]]));
    await cm.assignPChannelsDone(['dml_0']);
    const saves = catalog.pchannelSaves.length;
    const version = cm.version;
    const changed = await cm.assignPChannels(expected([['dml_0', A]]));
    expect(changed.size).toBe(0);
    expect(catalog.pchannelSaves.length).toBe(saves);
    expect(cm.version).toEqual(version);
  });

  it('phase 2 persists ASSIGNED with cleared histories and the clock time; discovery sees it', async () => {
    const catalog = new FakeCatalog();
    const time = clock(1_700_000_123_456);
    const cm = await recover(catalog, NAMES, time.now);
    await cm.assignPChannels(expected([['dml_0', A], ['dml_1', B]]));
    await cm.assignPChannels(expected([['dml_0', B]])); // a second attempt before done: history t2@A
    expect(cm.getMeta('dml_0')?.histories).toEqual([{ term: 2n, node: A, accessMode: 'rw' }]);
    await cm.assignPChannelsDone(['dml_0', 'dml_1']);
    const m = cm.getMeta('dml_0')!;
    expect(m.state).toBe(PChannelMetaState.ASSIGNED);
    expect(m.histories).toEqual([]);
    expect(m.channel.term).toBe(3n);
    expect(m.lastAssignTimestampSeconds).toBe(1_700_000_123n);
    expect(catalog.pchannels.get('dml_0')).toBe(m);
    expect(cm.version.local).toBe(3n);
    expect(cm.getLatestWALLocated('dml_0')).toEqual(B);
    expect(cm.currentAssignments()).toEqual({
      version: { global: SERVER_ID, local: 3n },
      cchannel: 'dml_0',
      nodes: [{ node: B, channels: [pchannelInfo('dml_0', 3n), pchannelInfo('dml_1', 2n)] }],
    });
  });

  it('unknown channels fail with CHANNEL_NOT_EXIST and save nothing', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    await expectCode(cm.assignPChannels(expected([['dml_0', A], ['nope', A]])), StreamingCode.CHANNEL_NOT_EXIST);
    await expectCode(cm.assignPChannelsDone(['nope']), StreamingCode.CHANNEL_NOT_EXIST);
    await expectCode(cm.markAsUnavailable(pchannelInfo('nope', 2n)), StreamingCode.CHANNEL_NOT_EXIST);
    expect(catalog.pchannelSaves).toEqual([]);
    expect(cm.version.local).toBe(0n);
  });
});

describe('ChannelManager markAsUnavailable (report_error)', () => {
  it('at the current term: UNAVAILABLE, no longer located, version bumped', async () => {
    const cm = await recover();
    await cm.assignPChannels(expected([['dml_0', A]]));
    await cm.assignPChannelsDone(['dml_0']);
    expect(cm.getLatestWALLocated('dml_0')).toEqual(A);
    await cm.markAsUnavailable(pchannelInfo('dml_0', 2n));
    expect(cm.getMeta('dml_0')?.state).toBe(PChannelMetaState.UNAVAILABLE);
    expect(cm.getLatestWALLocated('dml_0')).toBeUndefined();
    expect(cm.version.local).toBe(3n);
    // The next round re-assigns, even to the same node, at a new term with a history.
    const changed = await cm.assignPChannels(expected([['dml_0', A]]));
    expect(changed.get('dml_0')?.channel.term).toBe(3n);
    expect(changed.get('dml_0')?.histories).toEqual([{ term: 2n, node: A, accessMode: 'rw' }]);
  });

  it('at a stale term: state unchanged, but the copy is still persisted and the version bumped (as Milvus)', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    await cm.assignPChannels(expected([['dml_0', A]]));
    await cm.assignPChannels(expected([['dml_0', B]]));
    await cm.assignPChannelsDone(['dml_0']); // ASSIGNED at term 3
    const before = cm.getMeta('dml_0');
    const saves = catalog.pchannelSaves.length;
    await cm.markAsUnavailable([pchannelInfo('dml_0', 2n)]);
    expect(cm.getMeta('dml_0')).toEqual(before);
    expect(cm.getMeta('dml_0')?.state).toBe(PChannelMetaState.ASSIGNED);
    expect(catalog.pchannelSaves.length).toBe(saves + 1);
    expect(cm.version.local).toBe(4n);
  });
});

describe('ChannelManager failures', () => {
  it('a failed phase-1 save throws and leaves memory exactly as it was; the next round succeeds', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    const before = cm.snapshot();
    const boom = StreamingError.unknown('etcd down');
    catalog.failNextSaves(1, boom);
    await expect(cm.assignPChannels(expected([['dml_0', A]]))).rejects.toBe(boom);
    expect(cm.snapshot()).toBe(before);
    const changed = await cm.assignPChannels(expected([['dml_0', A]]));
    expect(changed.get('dml_0')?.channel.term).toBe(2n);
    expect(cm.version.local).toBe(1n);
  });

  it('a failed done-save leaves the channel ASSIGNING; the next round re-assigns at term+1 and completes', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    await cm.assignPChannels(expected([['dml_0', A]]));
    catalog.failNextSaves(1);
    await expect(cm.assignPChannelsDone(['dml_0'])).rejects.toBeInstanceOf(StreamingError);
    expect(cm.getMeta('dml_0')?.state).toBe(PChannelMetaState.ASSIGNING);
    expect(catalog.pchannels.get('dml_0')?.state).toBe(PChannelMetaState.ASSIGNING);
    // Not ASSIGNED, so the policy places it again (same node): term 3, history t2@A to remove first.
    const changed = await cm.assignPChannels(expected([['dml_0', A]]));
    expect(changed.get('dml_0')?.channel.term).toBe(3n);
    expect(changed.get('dml_0')?.histories).toEqual([{ term: 2n, node: A, accessMode: 'rw' }]);
    await cm.assignPChannelsDone(['dml_0']);
    expect(cm.getLatestWALLocated('dml_0')).toEqual(A);
    expect(catalog.pchannels.get('dml_0')).toBe(cm.getMeta('dml_0'));
  });
});

describe('ChannelManager notifications and concurrency', () => {
  it('snapshots$ replays the current snapshot and emits once per version change', async () => {
    const cm = await recover();
    const seen: ChannelManagerSnapshot[] = [];
    const sub = cm.snapshots$.subscribe((s) => seen.push(s));
    await cm.assignPChannels(expected([['dml_0', A]]));
    await cm.assignPChannels(expected([['dml_0', A]])); // ASSIGNING → retry is a change (term 3)
    await cm.assignPChannelsDone(['dml_0']);
    await cm.assignPChannels(expected([['dml_0', A]])); // no-op: no emission
    cm.triggerWatchUpdate();
    sub.unsubscribe();
    expect(seen.map((s) => s.version.local)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(seen.every((s) => s.version.global === SERVER_ID)).toBe(true);
    expect(seen[3]!.channels.get('dml_0')?.state).toBe(PChannelMetaState.ASSIGNED);
    expect(Object.isFrozen(seen[3])).toBe(true);
  });

  it('serialises mutations: a second assignment waits for the first and builds on it', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    const held = catalog.holdNextSave();
    const first = cm.assignPChannels(expected([['dml_0', A]]));
    await held.reached;
    const second = cm.assignPChannels(expected([['dml_0', B]]));
    held.release();
    await Promise.all([first, second]);
    const m = cm.getMeta('dml_0')!;
    expect(m.channel.term).toBe(3n);
    expect(m.node).toEqual(B);
    expect(m.histories).toEqual([{ term: 2n, node: A, accessMode: 'rw' }]);
    expect(cm.version.local).toBe(2n);
  });

  it('a membership bump during an in-flight save is not lost', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    const held = catalog.holdNextSave();
    const pending = cm.assignPChannels(expected([['dml_0', A]]));
    await held.reached;
    cm.triggerWatchUpdate();
    expect(cm.version.local).toBe(1n);
    held.release();
    await pending;
    expect(cm.version.local).toBe(2n);
    expect(cm.getMeta('dml_0')?.state).toBe(PChannelMetaState.ASSIGNING);
  });

  it('close completes snapshots$ and rejects later mutations with ON_SHUTDOWN', async () => {
    const cm = await recover();
    let completed = false;
    cm.snapshots$.subscribe({ complete: () => void (completed = true) });
    cm.close();
    cm.close();
    expect(completed).toBe(true);
    await expectCode(cm.assignPChannels(expected([['dml_0', A]])), StreamingCode.ON_SHUTDOWN);
    expect(cm.getMeta('dml_0')?.state).toBe(PChannelMetaState.UNINITIALIZED);
  });

  it('currentLayout lists every meta in name order with the version', async () => {
    const cm = await recover(new FakeCatalog(), ['dml_2', 'dml_10', 'dml_1']);
    const layout = cm.currentLayout();
    expect(layout.channels.map((m) => m.channel.name)).toEqual(['dml_1', 'dml_10', 'dml_2']);
    expect(layout.version).toEqual(cm.version);
    expect(cm.cchannel).toBe('dml_2');
  });
});
