/**
 * MetaCatalog on the embedded store (LevelMetaKV, a fresh temp dir per test): the catalog
 * conformance suite, plus data surviving a reopen of the store (standalone restart).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LevelMetaKV } from '../../shared/meta/index.js';
import { MetaCatalog } from '../../coord/catalog/index.js';
import { uniqueName } from '../harness/unique.js';
import { byName, pchannelsInEveryState } from './catalog-fixtures.js';
import { describeCatalog, type CatalogStore } from './catalog.suite.js';

const dirs = new Map<CatalogStore, string>();

describeCatalog('LevelMetaKV', {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    const store = { kv: await LevelMetaKV.open(dir), root: `t/${uniqueName('catalog')}/meta` };
    dirs.set(store, dir);
    return store;
  },
  async destroy(store) {
    await store.kv.close();
    const dir = dirs.get(store);
    dirs.delete(store);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  },
});

describe('MetaCatalog on LevelMetaKV only', () => {
  it('what was saved is listed after the store is closed and reopened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-reopen-'));
    try {
      const metas = pchannelsInEveryState('reopen');
      const first = await LevelMetaKV.open(dir);
      await new MetaCatalog(first).savePChannels(metas);
      await new MetaCatalog(first).saveVersion(2n);
      await first.close();
      const second = await LevelMetaKV.open(dir);
      try {
        const catalog = new MetaCatalog(second);
        expect(await catalog.listPChannels()).toEqual(byName(metas, (m) => m.channel.name));
        expect(await catalog.getVersion()).toBe(2n);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
