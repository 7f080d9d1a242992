import { describe, expect, it } from 'vitest';
import { PChannelMetaState } from '../../../../coord/catalog/index.js';
import { STREAMING_VERSION_ENABLED, tryAssignToServerId } from '../../../../coord/channel/index.js';
import { StreamingCode } from '../../../../shared/index.js';
import { FakeCatalog } from './fake-catalog.js';
import { A, B, SERVER_ID, assignedMeta, expectCode, recover } from './manager-fixtures.js';

describe('ChannelManager recovery', () => {
  it('on an empty catalog: creates UNINITIALIZED rw metas in memory, persists version and control channel', async () => {
    const catalog = new FakeCatalog();
    const cm = await recover(catalog);
    expect(cm.version).toEqual({ global: SERVER_ID, local: 0n });
    expect(cm.cchannel).toBe('dml_0');
    expect(catalog.cchannel).toBe('dml_0');
    expect(catalog.version).toBe(STREAMING_VERSION_ENABLED);
    expect(cm.streamingVersion).toBe(STREAMING_VERSION_ENABLED);
    expect(cm.currentLayout().channels.map((m) => [m.channel.name, m.channel.term, m.state, m.channel.accessMode])).toEqual([
      ['dml_0', 1n, PChannelMetaState.UNINITIALIZED, 'rw'],
      ['dml_1', 1n, PChannelMetaState.UNINITIALIZED, 'rw'],
      ['dml_2', 1n, PChannelMetaState.UNINITIALIZED, 'rw'],
    ]);
    // New metas stay in memory until their first assignment persists them (as Milvus).
    expect(catalog.pchannelSaves).toEqual([]);
    expect(cm.currentAssignments()).toEqual({ version: cm.version, cchannel: 'dml_0', nodes: [] });
  });

  it('keeps persisted metas (terms, states, nodes) and adds only missing configured channels', async () => {
    const catalog = new FakeCatalog();
    catalog.version = 1n;
    catalog.cchannel = 'dml_0';
    const persisted = assignedMeta('dml_1', A, 5n);
    const assigning = tryAssignToServerId(assignedMeta('dml_2', A, 3n), 'rw', B).meta;
    catalog.pchannels.set('dml_1', persisted);
    catalog.pchannels.set('dml_2', assigning);
    const cm = await recover(catalog);
    expect(cm.getMeta('dml_1')).toBe(persisted);
    expect(cm.getMeta('dml_2')).toBe(assigning);
    expect(cm.getMeta('dml_0')?.state).toBe(PChannelMetaState.UNINITIALIZED);
    expect(catalog.saveVersionCalls).toBe(0);
    expect(catalog.saveCChannelCalls).toBe(0);
    expect(cm.getLatestWALLocated('dml_1')).toEqual(A);
    expect(cm.getLatestWALLocated('dml_2')).toBeUndefined();
  });

  it('keeps persisted channels that are no longer configured', async () => {
    const catalog = new FakeCatalog();
    catalog.pchannels.set('old_9', assignedMeta('old_9', A, 2n));
    const cm = await recover(catalog);
    expect([...cm.snapshot().channels.keys()]).toEqual(['dml_0', 'dml_1', 'dml_2', 'old_9']);
  });

  it('chooses the control channel once: a later recovery with other names keeps it', async () => {
    const catalog = new FakeCatalog();
    await recover(catalog, ['dml_0', 'dml_1']);
    const again = await recover(catalog, ['dml_1', 'dml_0', 'dml_2']);
    expect(again.cchannel).toBe('dml_0');
    expect(catalog.saveCChannelCalls).toBe(1);
    expect(catalog.saveVersionCalls).toBe(1);
  });

  it('fails when listing pchannels fails', async () => {
    const catalog = new FakeCatalog();
    catalog.failNextList();
    await expectCode(recover(catalog), StreamingCode.UNRECOVERABLE);
  });

  it('fails without configured pchannels and without a persisted control channel', async () => {
    await expectCode(recover(new FakeCatalog(), []), StreamingCode.INVAILD_ARGUMENT);
  });
});
