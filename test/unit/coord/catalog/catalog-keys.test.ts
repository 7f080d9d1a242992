/**
 * The catalog key layout: Milvus's relative keys joined to the meta root as Go's path.Join does
 * (no trailing slash, one separator), and names that could not be listed back are refused.
 */
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import { CatalogKeys, DEFAULT_META_ROOT } from '../../../../coord/catalog/index.js';

describe('CatalogKeys', () => {
  it('lays keys out as Milvus 2.6 does under the default root', () => {
    const keys = new CatalogKeys();
    expect(keys.root).toBe(DEFAULT_META_ROOT);
    expect(keys.pchannel('by-dev-rootcoord-dml_0')).toBe('by-dev/meta/streamingcoord-meta/pchannel/by-dev-rootcoord-dml_0');
    expect(keys.broadcastTask(461949279405443608n)).toBe('by-dev/meta/streamingcoord-meta/broadcast-task/461949279405443608');
    expect(keys.version).toBe('by-dev/meta/streamingcoord-meta/version');
    expect(keys.cchannel).toBe('by-dev/meta/streamingcoord-meta/cchannel');
    expect(keys.vchannel('by-dev-rootcoord-dml_3_451234v0')).toBe('by-dev/meta/streamingcoord-meta/vchannel/by-dev-rootcoord-dml_3_451234v0');
    expect(keys.tso).toBe('by-dev/meta/streamingcoord-meta/tso');
    expect(keys.pchannelPrefix).toBe('by-dev/meta/streamingcoord-meta/pchannel/');
    expect(keys.vchannelPrefix).toBe('by-dev/meta/streamingcoord-meta/vchannel/');
    expect(keys.broadcastTaskPrefix).toBe('by-dev/meta/streamingcoord-meta/broadcast-task/');
  });

  it('drops trailing slashes of the root; an empty root leaves the keys relative', () => {
    expect(new CatalogKeys('/cluster-a/meta//').version).toBe('/cluster-a/meta/streamingcoord-meta/version');
    expect(new CatalogKeys('').cchannel).toBe('streamingcoord-meta/cchannel');
  });

  it('refuses empty or slash-containing names and ids outside uint64', () => {
    const keys = new CatalogKeys();
    for (const bad of [() => keys.pchannel(''), () => keys.vchannel('a/b'), () => keys.broadcastTask(-1n), () => keys.broadcastTask(1n << 64n)]) {
      expect(bad).toThrow(expect.objectContaining({ code: StreamingCode.INVAILD_ARGUMENT }));
    }
    expect(keys.broadcastTask((1n << 64n) - 1n)).toMatch(/\/18446744073709551615$/);
  });
});
