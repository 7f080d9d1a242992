/**
 * VChannelAllocator over the fake catalog and a local TSO: even spread (least-loaded pchannels,
 * ties by pchannel index), one vchannel per pchannel per collection, persistence before
 * visibility, recovery by a new allocator, collection ids from the TSO, idempotent retries, drop
 * semantics, and the balancer stats provider.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VChannelMeta } from '../../../../coord/catalog/index.js';
import { VChannelAllocator } from '../../../../coord/vchannel/index.js';
import { Deferred, LocalTsoAllocator, StreamingCode, StreamingError, pchannelNames } from '../../../../shared/index.js';
import { FakeCatalog } from '../channel/fake-catalog.js';

const P16 = pchannelNames('by-dev', 16);
const p = (i: number): string => `by-dev-rootcoord-dml_${i}`;

/** FakeCatalog whose vchannel saves can fail or be held. */
class ScriptedCatalog extends FakeCatalog {
  vchannelSaves = 0;
  failNext = false;
  hold: { reached: Deferred<void>; gate: Deferred<void> } | undefined;

  override async saveVChannels(metas: readonly VChannelMeta[]): Promise<void> {
    const hold = this.hold;
    if (hold !== undefined) {
      this.hold = undefined;
      hold.reached.resolve();
      await hold.gate.promise;
    }
    if (this.failNext) {
      this.failNext = false;
      throw StreamingError.unknown('injected vchannel save failure');
    }
    this.vchannelSaves++;
    await super.saveVChannels(metas);
  }
}

async function allocator(catalog = new ScriptedCatalog(), pchannels: readonly string[] = P16, onChange?: () => void) {
  const tso = new LocalTsoAllocator();
  const a = await VChannelAllocator.recover({ catalog, tso, pchannels, ...(onChange ? { onChange } : {}) });
  return { a, catalog, tso };
}

function counts(a: VChannelAllocator, pchannels: readonly string[] = P16): number[] {
  return pchannels.map((name) => a.vchannelStats(name)?.count ?? 0);
}

async function rejection(p: Promise<unknown>): Promise<StreamingError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(StreamingError);
  return e as StreamingError;
}

describe('VChannelAllocator', () => {
  it('spreads 3 collections × 4 shards over 16 pchannels evenly, each collection on distinct pchannels', async () => {
    const { a } = await allocator();
    for (const id of [11n, 12n, 13n]) {
      const { vchannels } = await a.allocate(id, 4);
      expect(new Set(vchannels.map((v) => v.pchannel)).size).toBe(4);
      expect(vchannels.map((v) => v.vchannel)).toEqual(vchannels.map((v, i) => `${v.pchannel}_${id}v${i}`));
    }
    const c = counts(a);
    expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
    expect((await a.allocate(14n, 4)).vchannels.map((v) => v.pchannel)).toEqual([p(12), p(13), p(14), p(15)]);
  });

  it('breaks ties by pchannel index, not by string order (dml_2 before dml_10)', async () => {
    const { a } = await allocator();
    await a.allocate(1n, 2); // dml_0, dml_1
    expect((await a.allocate(2n, 4)).vchannels.map((v) => v.pchannel)).toEqual([p(2), p(3), p(4), p(5)]);
  });

  it('keeps max − min ≤ 1 for any sequence of allocations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 30 }), async (shards) => {
        const { a } = await allocator();
        for (const [i, n] of shards.entries()) await a.allocate(BigInt(i + 1), n);
        const c = counts(a);
        expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
        expect(c.reduce((x, y) => x + y, 0)).toBe(shards.reduce((x, y) => x + y, 0));
      }),
      { numRuns: 50 },
    );
  });

  it('rejects more shards than pchannels, and bad counts or ids, with INVAILD_ARGUMENT naming the field', async () => {
    const { a, catalog } = await allocator(new ScriptedCatalog(), P16.slice(0, 4));
    const over = await rejection(a.allocate(5n, 5));
    expect(over.code).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(over.message).toMatch(/^invalid count: not enough pchannels/);
    expect((await rejection(a.allocate(5n, 0))).message).toMatch(/^invalid count/);
    expect((await rejection(a.allocate(-1n, 1))).message).toMatch(/^invalid collection_id/);
    expect(catalog.vchannelSaves).toBe(0);
    expect(a.list()).toEqual([]);
  });

  it('takes a fresh collection id (and create timestamps) from the TSO for id 0', async () => {
    const { a } = await allocator();
    const first = await a.allocate(0n, 2);
    const second = await a.allocate(0n, 1);
    expect(first.collectionId > 0n).toBe(true);
    expect(second.collectionId > first.collectionId).toBe(true);
    expect(first.vchannels.every((v) => v.collectionId === first.collectionId && v.createTimestamp === first.collectionId)).toBe(true);
  });

  it('persists before it resolves and before anything is visible; a failed save changes nothing', async () => {
    const { a, catalog } = await allocator();
    const hold = { reached: new Deferred<void>(), gate: new Deferred<void>() };
    catalog.hold = hold;
    const pending = a.allocate(9n, 2);
    await hold.reached.promise;
    expect(a.list()).toEqual([]);
    expect(a.vchannelStats(p(0))).toBeUndefined();
    hold.gate.resolve();
    const done = await pending;
    expect([...catalog.vchannels.keys()].sort()).toEqual(done.vchannels.map((v) => v.vchannel).sort());

    catalog.failNext = true;
    await rejection(a.allocate(10n, 3));
    expect(a.list().map((v) => v.collectionId)).toEqual([9n, 9n]);
    expect(catalog.vchannels.size).toBe(2);
  });

  it('is recovered by a new allocator over the same catalog', async () => {
    const { a, catalog } = await allocator();
    await a.allocate(1n, 3);
    await a.allocate(2n, 2);
    await a.drop([`${p(0)}_1v0`]);
    const { a: b } = await allocator(catalog);
    expect(b.list({ includeDropped: true })).toEqual(a.list({ includeDropped: true }));
    expect(counts(b)).toEqual(counts(a));
    // …and keeps placing on the least-loaded pchannels.
    expect((await b.allocate(3n, 1)).vchannels[0]!.pchannel).toBe(p(0));
  });

  it('returns the existing vchannels on a retry with the same count; another count or a dropped collection is rejected', async () => {
    const changes: string[] = [];
    const { a, catalog } = await allocator(new ScriptedCatalog(), P16, () => changes.push('change'));
    const first = await a.allocate(77n, 3);
    const again = await a.allocate(77n, 3);
    expect(again.vchannels).toEqual(first.vchannels);
    expect(catalog.vchannelSaves).toBe(1);
    expect(changes).toHaveLength(1);
    expect((await rejection(a.allocate(77n, 2))).message).toMatch(/^invalid collection_id: collection 77 already has 3 vchannels/);
    await a.drop(first.vchannels.map((v) => v.vchannel));
    expect((await rejection(a.allocate(77n, 3))).message).toMatch(/was dropped/);
  });

  it('drops: marks dropped, skips unknown and already dropped names, rejects malformed names', async () => {
    const changes: string[] = [];
    const { a, catalog } = await allocator(new ScriptedCatalog(), P16, () => changes.push('change'));
    const { vchannels } = await a.allocate(5n, 2);
    const [v0, v1] = vchannels.map((v) => v.vchannel) as [string, string];
    const bad = await rejection(a.drop([v0, 'not a name']));
    expect(bad.code).toBe(StreamingCode.INVAILD_ARGUMENT);
    const bad2 = await rejection(a.drop([v0, 'by-dev-rootcoord-dml_3']));
    expect(bad2.message).toMatch(/^invalid vchannels\[1\]/);
    expect(a.get(v0)?.state).toBe('normal');

    expect(await a.drop([v0, `${p(9)}_404v0`, v0])).toEqual([v0]);
    expect(await a.drop([v0])).toEqual([]);
    expect(changes).toHaveLength(2); // allocate + one effective drop
    const dropped = a.get(v0)!;
    expect(dropped.state).toBe('dropped');
    expect(dropped.dropTimestamp > dropped.createTimestamp).toBe(true);
    expect(catalog.vchannels.get(v0)?.state).toBe('dropped');
    expect(a.list().map((v) => v.vchannel)).toEqual([v1]);
    expect(a.list({ includeDropped: true }).map((v) => v.vchannel)).toEqual([v0, v1]);
    expect(a.list({ pchannel: p(1) }).map((v) => v.vchannel)).toEqual([v1]);
    expect(() => a.list({ pchannel: v1 })).toThrow(/invalid pchannel/);
  });

  it('provides the live vchannel stats per pchannel for vchannelFair', async () => {
    const { a } = await allocator(new ScriptedCatalog(), P16.slice(0, 2));
    await a.allocate(1n, 2);
    await a.allocate(2n, 1);
    expect(a.vchannelStats(p(0))).toEqual({ count: 2, collectionIds: [1n, 2n] });
    expect(a.vchannelStats(p(1))).toEqual({ count: 1, collectionIds: [1n] });
    await a.drop([`${p(1)}_1v1`]);
    expect(a.vchannelStats(p(1))).toBeUndefined();
    expect(a.vchannelStats('unknown')).toBeUndefined();
  });

  it('refuses an empty or malformed pchannel list', async () => {
    await expect(VChannelAllocator.recover({ catalog: new FakeCatalog(), tso: new LocalTsoAllocator(), pchannels: [] })).rejects.toThrow(/invalid pchannels/);
    await expect(VChannelAllocator.recover({ catalog: new FakeCatalog(), tso: new LocalTsoAllocator(), pchannels: ['a_1v0'] })).rejects.toThrow(/invalid pchannels/);
  });
});
