/**
 * Conformance, part 2: watches (exact event sequences, per-revision batches, prefix isolation,
 * compaction as a terminal notice) and listAndWatch's re-list after compaction.
 */
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../shared/errors/index.js';
import { listAndWatch, type ListAndWatchItem, type WatchBatch } from '../../shared/meta/index.js';
import { brief, expectCode, expectEnd, take, type MetaKVFixture } from './meta-kv-fixture.js';

export function describeWatchContract(fixture: () => MetaKVFixture): void {
  describe('watch', () => {
    it('from now: delivers puts and deletes of later writes, one batch per revision', async () => {
      const { kv, prefix } = fixture();
      await kv.put(`${prefix}before`, 'x');
      const watch = kv.watch(prefix);
      await watch.ready();
      const it = watch[Symbol.asyncIterator]();
      const r1 = (await kv.put(`${prefix}a`, '1')).revision;
      const r2 = (await kv.txn({ compares: [], success: [{ type: 'put', key: `${prefix}b`, value: '2' }, { type: 'put', key: `${prefix}c`, value: '3' }] })).revision;
      await kv.delete(`${prefix}a`);
      const batches = await take(it, 3);
      expect(batches.map(brief)).toEqual([
        { rev: r1, events: [`put ${prefix}a=1`] },
        { rev: r2, events: [`put ${prefix}b=2`, `put ${prefix}c=3`] },
        { rev: r2 + 1, events: [`delete ${prefix}a`] },
      ]);
      const put = batches[0]!;
      const del = batches[2]!;
      if (put.kind !== 'events' || del.kind !== 'events') throw new Error('unexpected batch kind');
      expect(put.events[0]!.kv).toMatchObject({ createRevision: r1, modRevision: r1, version: 1 });
      // etcd's delete event: key, the deleting revision, everything else zero/empty.
      expect(del.events[0]!.kv).toMatchObject({ key: `${prefix}a`, modRevision: r2 + 1, createRevision: 0, version: 0 });
      expect(del.events[0]!.kv.value.length).toBe(0);
      await watch.close();
      await expectEnd(it);
    });

    it('from an older revision: replays the exact sequence, then continues live', async () => {
      const { kv, prefix } = fixture();
      const start = (await kv.put(`${prefix}k1`, 'a')).revision;
      await kv.put(`${prefix}k2`, 'b');
      await kv.put(`${prefix}k1`, 'c');
      await kv.deletePrefix(prefix);
      const watch = kv.watch(prefix, { fromRevision: start + 1 });
      const it = watch[Symbol.asyncIterator]();
      const replayed = await take(it, 3);
      expect(replayed.map(brief)).toEqual([
        { rev: start + 1, events: [`put ${prefix}k2=b`] },
        { rev: start + 2, events: [`put ${prefix}k1=c`] },
        { rev: start + 3, events: [`delete ${prefix}k1`, `delete ${prefix}k2`] },
      ]);
      const live = (await kv.put(`${prefix}k3`, 'd')).revision;
      expect((await take(it, 1)).map(brief)).toEqual([{ rev: live, events: [`put ${prefix}k3=d`] }]);
      await watch.close();
    });

    it('sees only its prefix, and ends on close and on abort', async () => {
      const { kv, prefix } = fixture();
      const controller = new AbortController();
      const watch = kv.watch(`${prefix}in/`, { fromRevision: (await kv.revision()) + 1, signal: controller.signal });
      const it = watch[Symbol.asyncIterator]();
      await kv.put(`${prefix}out/1`, 'x');
      await kv.put(`${prefix}in`, 'not under in/');
      const r = (await kv.put(`${prefix}in/1`, 'y')).revision;
      await kv.put(`${prefix}out/2`, 'x');
      const r2 = (await kv.put(`${prefix}in/2`, 'z')).revision;
      expect((await take(it, 2)).map(brief)).toEqual([
        { rev: r, events: [`put ${prefix}in/1=y`] },
        { rev: r2, events: [`put ${prefix}in/2=z`] },
      ]);
      controller.abort();
      await expectEnd(it);
    });

    it('compaction: a watch from a compacted revision gets one terminal compacted notice', async () => {
      const { kv, prefix } = fixture();
      const first = (await kv.put(`${prefix}a`, '1')).revision;
      await kv.put(`${prefix}a`, '2');
      const at = (await kv.put(`${prefix}a`, '3')).revision;
      await kv.compact(at);
      const stale = kv.watch(prefix, { fromRevision: first });
      const it = stale[Symbol.asyncIterator]();
      expect((await take(it, 1)).map(brief)).toEqual([{ compacted: at }]);
      await expectEnd(it);
      // From the compaction revision itself everything is still there.
      const ok = kv.watch(prefix, { fromRevision: at });
      expect((await take(ok[Symbol.asyncIterator](), 1)).map(brief)).toEqual([{ rev: at, events: [`put ${prefix}a=3`] }]);
      await ok.close();
      await expectCode(kv.range(prefix, { revision: first }), StreamingCode.INNER);
      await expectCode(kv.compact(first), StreamingCode.INNER);
    });

    it('listAndWatch: snapshot, events, and a fresh snapshot after compaction', async () => {
      const { kv, prefix } = fixture();
      await kv.put(`${prefix}a`, '1');
      await kv.put(`${prefix}b`, '1');
      const controller = new AbortController();
      const items = listAndWatch(kv, prefix, { signal: controller.signal, pageSize: 1 });
      const it = items[Symbol.asyncIterator]();
      const [snap] = (await take(it, 1)) as [ListAndWatchItem];
      expect(snap.kind).toBe('snapshot');
      if (snap.kind !== 'snapshot') throw new Error('expected a snapshot');
      expect(snap.kvs.map((x) => x.key)).toEqual([`${prefix}a`, `${prefix}b`]);
      // While the consumer holds the snapshot, history moves on and is compacted away.
      await kv.put(`${prefix}c`, '1');
      await kv.delete(`${prefix}a`);
      const now = (await kv.put(`${prefix}d`, '1')).revision;
      await kv.compact(now);
      const [again] = (await take(it, 1)) as [ListAndWatchItem];
      expect(again.kind).toBe('snapshot');
      if (again.kind !== 'snapshot') throw new Error('expected a snapshot');
      expect(again.revision).toBeGreaterThanOrEqual(now);
      expect(again.kvs.map((x) => x.key)).toEqual([`${prefix}b`, `${prefix}c`, `${prefix}d`]);
      const r = (await kv.put(`${prefix}e`, '2')).revision;
      expect((await take(it, 1)).map((x) => brief(x as WatchBatch))).toEqual([{ rev: r, events: [`put ${prefix}e=2`] }]);
      controller.abort();
      await expectEnd(it);
    });
  });
}
