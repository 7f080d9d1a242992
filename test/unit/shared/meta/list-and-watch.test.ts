import { describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import { listAndWatch, type MetaKV, type MetaWatch, type RangeOptions, type RangeResult, type WatchBatch } from '../../../../shared/meta/index.js';

/** A MetaKV that only ranges (scripted) and watches (scripted batches). */
function fakeKv(ranges: ((o: RangeOptions) => RangeResult | Error)[], watches: WatchBatch[][]): { kv: MetaKV; rangeCalls: RangeOptions[]; watchFrom: number[] } {
  const rangeCalls: RangeOptions[] = [];
  const watchFrom: number[] = [];
  const unused = (): never => {
    throw new Error('not used by listAndWatch');
  };
  const kv = {
    range: async (_prefix: string, options: RangeOptions = {}) => {
      rangeCalls.push(options);
      const next = ranges.shift();
      if (next === undefined) throw new Error('unexpected range call');
      const r = next(options);
      if (r instanceof Error) throw r;
      return r;
    },
    watch: (_prefix: string, options: { fromRevision?: number } = {}): MetaWatch => {
      watchFrom.push(options.fromRevision ?? -1);
      const batches = watches.shift() ?? [];
      return {
        ready: async () => undefined,
        close: async () => undefined,
        async *[Symbol.asyncIterator]() {
          yield* batches;
        },
      };
    },
    get: unused, put: unused, delete: unused, deletePrefix: unused, txn: unused, revision: unused, compact: unused,
    leaseGrant: unused, leaseKeepAliveOnce: unused, leaseRevoke: unused, close: unused,
  } satisfies MetaKV;
  return { kv, rangeCalls, watchFrom };
}

const kvAt = (key: string, rev: number) => ({ key, value: Buffer.from(key), createRevision: rev, modRevision: rev, version: 1, lease: '0' });

describe('listAndWatch', () => {
  it('pages the listing at the first page revision, then watches from it + 1', async () => {
    const { kv, rangeCalls, watchFrom } = fakeKv(
      [() => ({ kvs: [kvAt('a', 2)], more: true, revision: 9 }), () => ({ kvs: [kvAt('b', 3)], more: false, revision: 9 })],
      [[{ kind: 'events', revision: 10, events: [{ type: 'put', kv: kvAt('c', 10) }] }]],
    );
    const controller = new AbortController();
    const items = [];
    for await (const item of listAndWatch(kv, 'p/', { signal: controller.signal, pageSize: 1 })) {
      items.push(item);
      if (items.length === 2) controller.abort();
    }
    expect(items.map((i) => (i.kind === 'snapshot' ? `snapshot@${i.revision}:${i.kvs.map((k) => k.key).join(',')}` : `events@${i.revision}`))).toEqual([
      'snapshot@9:a,b',
      'events@10',
    ]);
    expect(rangeCalls).toEqual([{ limit: 1 }, { limit: 1, startAfter: 'a', revision: 9 }]);
    expect(watchFrom).toEqual([10]);
  });

  it('retries INNER listing failures (reporting them) and re-lists after a compacted notice', async () => {
    const retried: StreamingError[] = [];
    const { kv, watchFrom } = fakeKv(
      [
        () => StreamingError.inner('etcd down'),
        () => ({ kvs: [], more: false, revision: 5 }),
        () => ({ kvs: [kvAt('z', 20)], more: false, revision: 20 }),
      ],
      [[{ kind: 'compacted', compactRevision: 15 }], []],
    );
    const controller = new AbortController();
    const snapshots: number[] = [];
    for await (const item of listAndWatch(kv, 'p/', { signal: controller.signal, retryInitialMs: 1, onRetry: (e) => retried.push(e) })) {
      if (item.kind === 'snapshot') snapshots.push(item.revision);
      if (snapshots.length === 2) controller.abort();
    }
    expect(snapshots).toEqual([5, 20]);
    expect(retried.map((e) => e.code)).toEqual([StreamingCode.INNER]);
    expect(watchFrom).toEqual([6]);
  });

  it('throws failures that retrying cannot fix (closed store)', async () => {
    const { kv } = fakeKv([() => StreamingError.onShutdown('closed')], []);
    const it = listAndWatch(kv, 'p/')[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
  });
});
