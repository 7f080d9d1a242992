/**
 * The coordinator catalog contract, written once and run on every meta store (LevelMetaKV on a
 * temp dir, EtcdMetaKV on a real etcd): round trips of every record with 64-bit values, Milvus's
 * key layout and bytes, batching (≤ 128 ops per txn), paged listing, corrupt values, and writes
 * retried through store failures until they succeed or the caller aborts.
 *
 * @example
 * ```ts
 * describeCatalog('LevelMetaKV', { create: async () => ({ kv, root }), destroy: async () => {} });
 * ```
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../shared/errors/index.js';
import type { MetaKV } from '../../shared/meta/index.js';
import { protoTypes } from '../../shared/proto/index.js';
import { waitFor } from '../../shared/util/index.js';
import { MetaCatalog, PChannelMetaState, type MetaCatalogOptions } from '../../coord/catalog/index.js';
import { InstrumentedMetaKV } from './catalog-kv-wrappers.js';
import { BIG, INT64_MAX, UINT64_MAX, byName, names, pchannelsInEveryState, samplePChannel, sampleVChannel } from './catalog-fixtures.js';
import { expectCode } from './meta-kv-fixture.js';

/** One test's store and meta root. */
export interface CatalogStore {
  readonly kv: MetaKV;
  /** Unique to the test, without a trailing slash. */
  readonly root: string;
}

/** What a runner provides. */
export interface CatalogStoreFactory {
  create(): Promise<CatalogStore>;
  destroy(store: CatalogStore): Promise<void>;
}

/** Per-test state of the suite. */
export interface CatalogFixture {
  readonly store: CatalogStore;
  readonly kv: InstrumentedMetaKV;
  readonly catalog: MetaCatalog;
  /** Another catalog on the same store and root, with other options. */
  reopen(options?: MetaCatalogOptions): MetaCatalog;
}

const PAGE = 50;

/** Registers beforeEach/afterEach and returns the current test's fixture. */
export function useCatalogFixture(factory: CatalogStoreFactory): () => CatalogFixture {
  let current: CatalogFixture | undefined;
  beforeEach(async () => {
    const store = await factory.create();
    const kv = new InstrumentedMetaKV(store.kv);
    const reopen = (options: MetaCatalogOptions = {}): MetaCatalog => new MetaCatalog(kv, { rootPath: store.root, pageSize: PAGE, ...options });
    current = { store, kv, catalog: reopen(), reopen };
  });
  afterEach(async () => {
    const f = current;
    current = undefined;
    if (f !== undefined) await factory.destroy(f.store);
  });
  return () => {
    if (current === undefined) throw new Error('fixture used outside a test');
    return current;
  };
}

/** Registers the whole catalog suite for one store. */
export function describeCatalog(name: string, factory: CatalogStoreFactory): void {
  describe(`Catalog conformance: ${name}`, () => {
    const fx = useCatalogFixture(factory);
    describeRoundTrips(fx);
    describeLayoutAndBatching(fx);
    describeCorruption(fx);
    describeRetries(fx);
  });
}

function describeRoundTrips(fx: () => CatalogFixture): void {
  it('an empty store lists nothing and has no version or cchannel', async () => {
    const { catalog } = fx();
    expect(await catalog.listPChannels()).toEqual([]);
    expect(await catalog.listVChannels()).toEqual([]);
    expect(await catalog.getVersion()).toBeUndefined();
    expect(await catalog.getCChannel()).toBeUndefined();
  });

  it('pchannel metas round-trip in every state, with histories and 64-bit values', async () => {
    const { catalog, reopen } = fx();
    const metas = pchannelsInEveryState('rt');
    await catalog.savePChannels(metas);
    // A fresh catalog instance reads the same: nothing is cached.
    const listed = await reopen().listPChannels();
    expect(listed).toEqual(byName(metas, (m) => m.channel.name));
    const assigned = listed.find((m) => m.state === PChannelMetaState.ASSIGNED);
    expect(assigned?.lastAssignTimestampSeconds).toBe(UINT64_MAX - 3n);
    expect(assigned?.node?.serverId).toBe(BIG * 3n + 3n);
    const assigning = listed.find((m) => m.state === PChannelMetaState.ASSIGNING);
    expect(assigning?.histories.map((h) => h.node.serverId)).toEqual([INT64_MAX - 2n, 2n]);
    expect(listed.find((m) => m.state === PChannelMetaState.UNINITIALIZED)?.node).toBeUndefined();
  });

  it('saving a pchannel again overwrites it; the last meta of a name in one save wins', async () => {
    const { catalog } = fx();
    const name = 'ow-dml_0';
    await catalog.savePChannels([samplePChannel(name, PChannelMetaState.ASSIGNING, 5n)]);
    const done = samplePChannel(name, PChannelMetaState.ASSIGNED, 6n);
    await catalog.savePChannels([samplePChannel(name, PChannelMetaState.UNAVAILABLE, 7n), done]);
    expect(await catalog.listPChannels()).toEqual([done]);
  });

  it('version and cchannel round-trip (int64 beyond 2^53)', async () => {
    const { catalog } = fx();
    await catalog.saveVersion(1n);
    expect(await catalog.getVersion()).toBe(1n);
    await catalog.saveVersion(INT64_MAX);
    expect(await catalog.getVersion()).toBe(INT64_MAX);
    await catalog.saveCChannel('by-dev-rootcoord-dml_0');
    expect(await catalog.getCChannel()).toBe('by-dev-rootcoord-dml_0');
  });

  it('vchannels round-trip, normal and dropped, and can be removed', async () => {
    const { catalog } = fx();
    const metas = [sampleVChannel('vc-dml_1', BIG, 0), sampleVChannel('vc-dml_2', BIG, 1, true), sampleVChannel('vc-dml_1', 7n, 0)];
    await catalog.saveVChannels(metas);
    expect(await catalog.listVChannels()).toEqual(byName(metas, (m) => m.vchannel));
    await catalog.removeVChannels([metas[0]!.vchannel, 'vc-dml_9_1v0' /* unknown: no error */]);
    expect(await catalog.listVChannels()).toEqual(byName(metas.slice(1), (m) => m.vchannel));
  });

  it('rejects invalid records before writing anything (not retried)', async () => {
    const { catalog, kv } = fx();
    const bad = { ...samplePChannel('bad-dml_0', PChannelMetaState.ASSIGNED), lastAssignTimestampSeconds: -1n };
    await expectCode(catalog.savePChannels([bad]), StreamingCode.INVAILD_ARGUMENT);
    await expectCode(catalog.saveVersion(INT64_MAX + 1n), StreamingCode.INVAILD_ARGUMENT);
    await expectCode(catalog.saveCChannel(''), StreamingCode.INVAILD_ARGUMENT);
    await expectCode(catalog.savePChannels([samplePChannel('a/b', PChannelMetaState.ASSIGNED)]), StreamingCode.INVAILD_ARGUMENT);
    expect(kv.txns).toEqual([]);
  });
}

function describeLayoutAndBatching(fx: () => CatalogFixture): void {
  it('writes Milvus keys under the root, as binary protobuf Milvus can decode', async () => {
    const { catalog, store, reopen } = fx();
    const meta = samplePChannel('lay-dml_3', PChannelMetaState.ASSIGNED, 9n);
    await catalog.savePChannels([meta]);
    await catalog.saveVersion(3n);
    await catalog.saveCChannel('lay-dml_0');
    await catalog.saveVChannels([sampleVChannel('lay-dml_3', 11n, 0)]);
    const base = `${store.root}/streamingcoord-meta`;
    const raw = async (key: string): Promise<Buffer> => {
      const kv = await store.kv.get(key);
      expect(kv, key).toBeDefined();
      return kv!.value;
    };
    const p = protoTypes.streaming.PChannelMeta.decode(await raw(`${base}/pchannel/lay-dml_3`));
    expect(p.channel).toMatchObject({ name: 'lay-dml_3', term: (BIG + 9n).toString(), access_mode: 'PCHANNEL_ACCESS_READONLY' });
    expect(p.state).toBe('PCHANNEL_META_STATE_ASSIGNED');
    expect(p.last_assign_timestamp_seconds).toBe((UINT64_MAX - 9n).toString());
    expect(protoTypes.streaming.StreamingVersion.decode(await raw(`${base}/version`)).version).toBe('3');
    expect(protoTypes.streaming.CChannelMeta.decode(await raw(`${base}/cchannel`)).pchannel).toBe('lay-dml_0');
    expect(protoTypes.ext.VChannelCatalogMeta.decode(await raw(`${base}/vchannel/lay-dml_3_11v0`)).collection_id).toBe('11');
    // A root given with trailing slashes names the same keys.
    expect(await reopen({ rootPath: `${store.root}//` }).getVersion()).toBe(3n);
  });

  it('300 pchannels are saved in transactions of at most 128 operations and all listed back, page by page', async () => {
    const { catalog, kv, reopen } = fx();
    const metas = names('many', 300).map((n, i) => samplePChannel(n, PChannelMetaState.ASSIGNED, BigInt(i)));
    await catalog.savePChannels(metas);
    expect(kv.txns.map((t) => t.ops)).toEqual([128, 128, 44]);
    expect(kv.txns.every((t) => t.outcome === 'ok')).toBe(true);
    const listed = await catalog.listPChannels();
    expect(listed).toEqual(byName(metas, (m) => m.channel.name));
    expect(kv.rangeLimits.length).toBeGreaterThanOrEqual(Math.ceil(300 / PAGE));
    expect(kv.rangeLimits.every((limit) => limit !== undefined && limit <= PAGE)).toBe(true);
    // A smaller batch limit is honoured too (the default is Milvus's 128).
    kv.txns.length = 0;
    await reopen({ maxTxnOps: 100 }).saveVChannels(names('vb', 250).map((p, i) => sampleVChannel(p, 1n, i)));
    expect(kv.txns.map((t) => t.ops)).toEqual([100, 100, 50]);
    kv.txns.length = 0;
    await catalog.removeVChannels(names('vb', 250).map((p, i) => sampleVChannel(p, 1n, i).vchannel));
    expect(kv.txns.map((t) => t.ops)).toEqual([128, 122]);
    expect(await catalog.listVChannels()).toEqual([]);
  });

  it('only its own prefixes are listed (a sibling root is invisible)', async () => {
    const { catalog, store, reopen } = fx();
    await catalog.savePChannels([samplePChannel('own-dml_0', PChannelMetaState.ASSIGNED)]);
    const sibling = reopen({ rootPath: `${store.root}-sibling` });
    await sibling.savePChannels([samplePChannel('other-dml_0', PChannelMetaState.ASSIGNED)]);
    expect((await catalog.listPChannels()).map((m) => m.channel.name)).toEqual(['own-dml_0']);
    expect((await sibling.listPChannels()).map((m) => m.channel.name)).toEqual(['other-dml_0']);
    await store.kv.deletePrefix(`${store.root}-sibling/`);
  });
}

function describeCorruption(fx: () => CatalogFixture): void {
  const expectCorrupt = async (promise: Promise<unknown>, key: string): Promise<void> => {
    const error = await expectCode(promise, StreamingCode.UNRECOVERABLE);
    expect(error.message).toContain(key);
  };

  it('an undecodable pchannel value fails the listing with UNRECOVERABLE naming the key', async () => {
    const { catalog, store } = fx();
    await catalog.savePChannels(pchannelsInEveryState('cor'));
    const key = `${store.root}/streamingcoord-meta/pchannel/cor-dml_2`;
    await store.kv.put(key, Buffer.from('garbage bytes, not protobuf'));
    await expectCorrupt(catalog.listPChannels(), key);
  });

  it('a pchannel value whose channel name disagrees with its key is corrupt', async () => {
    const { catalog, store } = fx();
    const key = `${store.root}/streamingcoord-meta/pchannel/mis-dml_1`;
    await store.kv.put(key, protoTypes.streaming.PChannelMeta.encode({ channel: { name: 'mis-dml_0', term: 3 } }));
    await expectCorrupt(catalog.listPChannels(), key);
    // An empty value decodes to a meta without a channel: corrupt as well.
    await store.kv.put(key, Buffer.alloc(0));
    await expectCorrupt(catalog.listPChannels(), key);
  });

  it('corrupt version, cchannel and vchannel values are UNRECOVERABLE naming their keys', async () => {
    const { catalog, store } = fx();
    const base = `${store.root}/streamingcoord-meta`;
    await store.kv.put(`${base}/version`, Buffer.from([0xff, 0xff]));
    await expectCorrupt(catalog.getVersion(), `${base}/version`);
    await store.kv.put(`${base}/cchannel`, Buffer.from('garbage'));
    await expectCorrupt(catalog.getCChannel(), `${base}/cchannel`);
    await store.kv.put(`${base}/vchannel/x_1v0`, protoTypes.ext.VChannelCatalogMeta.encode({ vchannel: 'y_1v0', pchannel: 'y', state: 1 }));
    await expectCorrupt(catalog.listVChannels(), `${base}/vchannel/x_1v0`);
  });
}

function describeRetries(fx: () => CatalogFixture): void {
  it('a save is retried while the store fails, then completes', async () => {
    const { catalog, kv } = fx();
    kv.failNextTxns(3);
    const metas = pchannelsInEveryState('retry');
    await catalog.savePChannels(metas);
    expect(kv.txns.map((t) => t.outcome)).toEqual(['injected', 'injected', 'injected', 'ok']);
    expect(await catalog.listPChannels()).toEqual(byName(metas, (m) => m.channel.name));
    kv.failNextTxns(2);
    await catalog.saveVersion(5n);
    expect(await catalog.getVersion()).toBe(5n);
  });

  it('a batch that keeps failing is retried until it succeeds; earlier batches stay written', async () => {
    const { catalog, kv } = fx();
    // The second batch fails 4 times: batches are not atomic together, so the first is kept.
    kv.setFault((index) => (index >= 1 && index <= 4 ? StreamingError.inner(`injected #${index}`) : undefined));
    const metas = names('b2', 200).map((n) => samplePChannel(n, PChannelMetaState.UNINITIALIZED));
    await catalog.savePChannels(metas);
    expect(kv.txns.map((t) => `${t.ops}:${t.outcome}`)).toEqual(['128:ok', ...Array(4).fill('72:injected'), '72:ok']);
    expect((await catalog.listPChannels()).length).toBe(200);
  });

  it('aborting the signal stops the retries with the reason', async () => {
    const { catalog, kv } = fx();
    kv.failAllTxns();
    const controller = new AbortController();
    const saving = catalog.savePChannels([samplePChannel('ab-dml_0', PChannelMetaState.ASSIGNED)], { signal: controller.signal });
    await waitFor(() => kv.txns.length >= 3, { message: 'three failed attempts' });
    const reason = StreamingError.onShutdown('coordinator stopping');
    controller.abort(reason);
    await expect(saving).rejects.toBe(reason);
    const attempts = kv.txns.length;
    // No attempt is left running: a write after the abort is the very next transaction.
    kv.heal();
    await catalog.saveVersion(1n);
    expect(kv.txns.length).toBe(attempts + 1);
    expect(await catalog.listPChannels()).toEqual([]);
  });

  it('an abort without a StreamingError reason rejects with ON_SHUTDOWN; an aborted signal writes nothing', async () => {
    const { catalog, kv } = fx();
    kv.failAllTxns();
    const controller = new AbortController();
    const saving = catalog.saveCChannel('x', { signal: controller.signal });
    await waitFor(() => kv.txns.length >= 1, { message: 'a failed attempt' });
    controller.abort();
    await expectCode(saving, StreamingCode.ON_SHUTDOWN);
    kv.heal();
    const before = kv.txns.length;
    await expectCode(catalog.saveVersion(1n, { signal: controller.signal }), StreamingCode.ON_SHUTDOWN);
    expect(kv.txns.length).toBe(before);
    expect(await catalog.getVersion()).toBeUndefined();
  });
}
