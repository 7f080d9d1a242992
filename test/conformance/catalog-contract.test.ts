/** The Catalog contract on the real MetaCatalog (embedded store) and on the unit tests' FakeCatalog. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelMetaKV } from '../../shared/index.js';
import { MetaCatalog, type Catalog } from '../../coord/catalog/index.js';
import { FakeCatalog } from '../unit/coord/channel/fake-catalog.js';
import { describeCatalogContract } from './catalog-contract.suite.js';

const cleanups = new Map<Catalog, () => Promise<void>>();

describeCatalogContract('MetaCatalog on LevelMetaKV', {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-contract-'));
    const kv = await LevelMetaKV.open(dir);
    const catalog = new MetaCatalog(kv, { rootPath: 'contract/meta' });
    cleanups.set(catalog, async () => {
      await kv.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return catalog;
  },
  async destroy(catalog) {
    await cleanups.get(catalog)?.();
    cleanups.delete(catalog);
  },
});

describeCatalogContract('FakeCatalog', {
  create: async () => new FakeCatalog(),
  destroy: async () => undefined,
});
