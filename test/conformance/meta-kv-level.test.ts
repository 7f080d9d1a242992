/**
 * LevelMetaKV: the conformance suite on a fresh temp dir per test, plus what only the embedded
 * store has (reopen, purge on reopen, slow watchers, bounded history).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { StreamingCode } from '../../shared/errors/index.js';
import { LevelMetaKV, type LevelMetaKVOptions } from '../../shared/meta/index.js';
import { describeMetaKV, type MetaKVFixture } from './meta-kv.suite.js';
import { uniquePrefix } from '../harness/unique.js';
import { describeLevelExtras } from './meta-kv-level-extras.js';
import { expectCode } from './meta-kv-fixture.js';

const dirs = new Map<MetaKVFixture, string>();

describeMetaKV('LevelMetaKV', {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'meta-kv-'));
    const fixture = { kv: await LevelMetaKV.open(dir), prefix: uniquePrefix('level') };
    dirs.set(fixture, dir);
    return fixture;
  },
  async destroy(fixture) {
    await fixture.kv.close();
    const dir = dirs.get(fixture);
    dirs.delete(fixture);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  },
  leaseTtlMs: 1000,
  leaseExpirySlackMs: 300,
});

describe('LevelMetaKV only', () => {
  let dirs: string[] = [];
  let stores: LevelMetaKV[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'meta-kv-extra-'));
    dirs.push(dir);
    return dir;
  };
  const open = async (dir: string, options: LevelMetaKVOptions = {}): Promise<LevelMetaKV> => {
    const kv = await LevelMetaKV.open(dir, options);
    stores.push(kv);
    return kv;
  };
  afterEach(async () => {
    await Promise.all(stores.map((kv) => kv.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs = [];
    stores = [];
  });

  it('opening a directory twice fails with INNER (LevelDB lock), not a raw error', async () => {
    const dir = tempDir();
    await open(dir);
    await expectCode(LevelMetaKV.open(dir), StreamingCode.INNER);
  });

  describeLevelExtras(tempDir, open);
});
