/**
 * The `Catalog` interface contract, independent of how it is stored: run against the real
 * `MetaCatalog` (over the embedded meta store) and against the in-memory `FakeCatalog` that unit
 * tests use, so the fake cannot drift from the real thing. Storage specifics (key layout, bytes,
 * ≤128-op batches, corrupt values, retries) live in catalog.suite.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../../coord/catalog/index.js';
import { StreamingError } from '../../shared/index.js';
import { byName, pchannelsInEveryState, samplePChannel, sampleVChannel } from './catalog-fixtures.js';
import { PChannelMetaState } from '../../coord/catalog/index.js';

export interface CatalogContractFactory {
  create(): Promise<Catalog>;
  destroy(catalog: Catalog): Promise<void>;
}

export function describeCatalogContract(name: string, factory: CatalogContractFactory): void {
  describe(`Catalog contract: ${name}`, () => {
    let catalog: Catalog;
    beforeEach(async () => {
      catalog = await factory.create();
    });
    afterEach(async () => {
      await factory.destroy(catalog);
    });

    it('starts empty', async () => {
      expect(await catalog.listPChannels()).toEqual([]);
      expect(await catalog.listVChannels()).toEqual([]);
      expect(await catalog.getVersion()).toBeUndefined();
      expect(await catalog.getCChannel()).toBeUndefined();
    });

    it('lists saved pchannels sorted by name, with the last save of a name winning', async () => {
      const metas = pchannelsInEveryState('contract').reverse();
      await catalog.savePChannels(metas);
      const moved = samplePChannel('contract-dml_1', PChannelMetaState.ASSIGNED, 9n);
      await catalog.savePChannels([moved]);
      const expected = byName(
        metas.map((m) => (m.channel.name === moved.channel.name ? moved : m)),
        (m) => m.channel.name,
      );
      expect(await catalog.listPChannels()).toEqual(expected);
    });

    it('keeps version and control channel', async () => {
      await catalog.saveVersion(1n);
      await catalog.saveCChannel('by-dev-rootcoord-dml_0');
      await catalog.saveVersion(2n);
      expect(await catalog.getVersion()).toBe(2n);
      expect(await catalog.getCChannel()).toBe('by-dev-rootcoord-dml_0');
    });

    it('saves, lists (sorted by name) and removes vchannels; removing unknown names is a no-op', async () => {
      const v = [sampleVChannel('p-dml_1', 7n, 1), sampleVChannel('p-dml_0', 7n, 0, true)];
      await catalog.saveVChannels(v);
      expect(await catalog.listVChannels()).toEqual(byName(v, (m) => m.vchannel));
      await catalog.removeVChannels([v[0]!.vchannel, 'p-dml_9_1v0']);
      expect(await catalog.listVChannels()).toEqual([v[1]]);
    });

    it('rejects a save whose signal is already aborted, with the abort reason, and stores nothing', async () => {
      const ac = new AbortController();
      const reason = StreamingError.onShutdown('coordinator closing');
      ac.abort(reason);
      await expect(catalog.savePChannels(pchannelsInEveryState('aborted'), { signal: ac.signal })).rejects.toBe(reason);
      expect(await catalog.listPChannels()).toEqual([]);
    });
  });
}
