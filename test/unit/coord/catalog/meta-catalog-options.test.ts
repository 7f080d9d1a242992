/**
 * MetaCatalog's configuration: Milvus's defaults (128 ops per txn, 10 ms → 1 s write backoff)
 * and bad options refused when the catalog is built, not at its first write.
 */
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import type { MetaKV } from '../../../../shared/meta/index.js';
import {
  DEFAULT_CATALOG_TXN_OPS,
  DEFAULT_CATALOG_WRITE_BACKOFF,
  MetaCatalog,
} from '../../../../coord/catalog/index.js';

// The constructor never touches the store.
const kv = {} as MetaKV;

describe('MetaCatalog options', () => {
  it('defaults to Milvus: 128 operations per txn, backoff from 10 ms doubling to 1 s, root by-dev/meta', () => {
    expect(DEFAULT_CATALOG_TXN_OPS).toBe(128);
    expect(DEFAULT_CATALOG_WRITE_BACKOFF).toMatchObject({ initialMs: 10, maxMs: 1_000, multiplier: 2 });
    expect(new MetaCatalog(kv).keys.root).toBe('by-dev/meta');
  });

  it('refuses out-of-range options', () => {
    for (const options of [{ maxTxnOps: 0 }, { maxTxnOps: 129 }, { pageSize: 0 }, { pageSize: 1.5 }]) {
      expect(() => new MetaCatalog(kv, options)).toThrow(expect.objectContaining({ code: StreamingCode.INVAILD_ARGUMENT }));
    }
    expect(() => new MetaCatalog(kv, { writeBackoff: { initialMs: 100, maxMs: 10 } })).toThrow(RangeError);
  });
});
