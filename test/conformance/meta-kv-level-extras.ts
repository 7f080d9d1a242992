/**
 * Behaviour only the embedded store has: persistence across reopen (data, revisions, leases,
 * history), purging leases that expired while closed, slow watchers falling back to history
 * replay, the bounded history, and writes serialised under concurrency.
 */
import { expect, it } from 'vitest';
import { StreamingCode } from '../../shared/errors/index.js';
import type { LevelMetaKV, LevelMetaKVOptions } from '../../shared/meta/index.js';
import { brief, expectCode, expectEnd, take } from './meta-kv-fixture.js';
import { waitFor } from '../../shared/util/index.js';

type Open = (dir: string, options?: LevelMetaKVOptions) => Promise<LevelMetaKV>;

export function describeLevelExtras(tempDir: () => string, open: Open): void {
  it('reopen keeps data, revisions, history and unexpired leases', async () => {
    const dir = tempDir();
    const kv = await open(dir);
    const r1 = (await kv.put('/p/a', '1')).revision;
    const lease = await kv.leaseGrant(30_000);
    const r2 = (await kv.put('/p/leased', 'x', { lease: lease.id })).revision;
    await kv.close();
    const again = await open(dir);
    expect(await again.revision()).toBe(r2);
    expect(await again.get('/p/a')).toMatchObject({ createRevision: r1, modRevision: r1, version: 1 });
    expect((await again.get('/p/leased'))?.lease).toBe(lease.id);
    expect(await again.leaseKeepAliveOnce(lease.id)).toBe(30_000);
    const replay = again.watch('/p/', { fromRevision: r1 });
    expect((await take(replay[Symbol.asyncIterator](), 2)).map(brief)).toEqual([
      { rev: r1, events: ['put /p/a=1'] },
      { rev: r2, events: ['put /p/leased=x'] },
    ]);
    await replay.close();
    // A new lease id never repeats an old one.
    expect((await again.leaseGrant(1000)).id).not.toBe(lease.id);
    await again.leaseRevoke(lease.id);
    expect(await again.get('/p/leased')).toBeUndefined();
  });

  it('a lease that expired while the store was closed is purged on reopen', async () => {
    const dir = tempDir();
    const kv = await open(dir);
    const lease = await kv.leaseGrant(1000);
    const expiresAt = Date.now() + lease.ttlMs;
    const r = (await kv.put('/q/k', 'v', { lease: lease.id })).revision;
    await kv.close();
    await waitFor(() => Date.now() > expiresAt + 50, { message: 'the lease deadline to pass' });
    const again = await open(dir);
    expect(await again.get('/q/k')).toBeUndefined();
    expect(await again.revision()).toBe(r + 1);
    const watch = again.watch('/q/', { fromRevision: r + 1 });
    expect((await take(watch[Symbol.asyncIterator](), 1)).map(brief)).toEqual([{ rev: r + 1, events: ['delete /q/k'] }]);
    await watch.close();
    await expectCode(again.leaseKeepAliveOnce(lease.id), StreamingCode.UNRECOVERABLE);
  });

  it('a slow watcher never blocks writers and still gets every revision, in order', async () => {
    const kv = await open(tempDir(), { watchQueueLimit: 4 });
    const watch = kv.watch('/s/');
    const it = watch[Symbol.asyncIterator]();
    const revisions: number[] = [];
    for (let i = 0; i < 30; i++) revisions.push((await kv.put(`/s/${i}`, String(i))).revision);
    const got = await take(it, 30);
    expect(got.map((b) => (b.kind === 'events' ? b.revision : -1))).toEqual(revisions);
    const live = (await kv.put('/s/live', 'x')).revision;
    expect((await take(it, 1)).map(brief)).toEqual([{ rev: live, events: ['put /s/live=x'] }]);
    await watch.close();
  });

  it('a watcher that falls behind the retained history gets the compacted notice', async () => {
    const kv = await open(tempDir(), { watchQueueLimit: 4, historyLimit: 10 });
    const watch = kv.watch('/h/');
    const it = watch[Symbol.asyncIterator]();
    for (let i = 0; i < 30; i++) await kv.put(`/h/${i}`, String(i));
    const current = await kv.revision();
    expect((await take(it, 1)).map(brief)).toEqual([{ compacted: current - 9 }]);
    await expectEnd(it);
    // The retained tail is still watchable.
    const tail = kv.watch('/h/', { fromRevision: current - 9 });
    expect((await take(tail[Symbol.asyncIterator](), 10)).length).toBe(10);
    await tail.close();
    await expectCode(kv.range('/h/', { revision: current - 10 }), StreamingCode.INNER);
  });

  it('serialises concurrent compare-and-swap writers', async () => {
    const kv = await open(tempDir());
    const key = '/c/counter';
    await kv.put(key, '0');
    const increment = async (): Promise<void> => {
      for (;;) {
        const cur = (await kv.get(key))!;
        const next = String(Number(cur.value.toString()) + 1);
        const res = await kv.txn({ compares: [{ key, target: 'modRevision', op: '==', value: cur.modRevision }], success: [{ type: 'put', key, value: next }] });
        if (res.succeeded) return;
      }
    };
    await Promise.all(Array.from({ length: 20 }, increment));
    expect(await kv.get(key)).toMatchObject({ value: Buffer.from('20'), version: 21 });
  });
}
