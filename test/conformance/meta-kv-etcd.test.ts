/**
 * EtcdMetaKV: the conformance suite on a real etcd child process (one per file, a fresh client
 * and prefix per test), plus failure injection: SIGKILL + restart under an open watch, and a
 * stalled (SIGSTOP) etcd.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StreamingCode } from '../../shared/errors/index.js';
import { EtcdMetaKV, type EtcdMetaKVOptions } from '../../shared/meta/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { uniquePrefix } from '../harness/unique.js';
import { waitFor } from '../../shared/util/index.js';
import { brief, expectCode, take } from './meta-kv-fixture.js';
import { describeMetaKV } from './meta-kv.suite.js';

let etcd: EtcdProcess | undefined;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.close();
});

function endpoint(): string {
  if (etcd === undefined) throw new Error('etcd did not start');
  return etcd.endpoint;
}

describeMetaKV('EtcdMetaKV', {
  async create() {
    return { kv: new EtcdMetaKV({ endpoints: [endpoint()], requestTimeoutMs: 3_000 }), prefix: uniquePrefix('etcd') };
  },
  async destroy({ kv, prefix }) {
    // The store is shared: leave nothing behind (ignored when the test closed its client).
    await kv.deletePrefix(prefix).catch(() => undefined);
    await kv.close();
  },
  // etcd grants at least 2 s and expires keys about half a second after the TTL.
  leaseTtlMs: 2_000,
  leaseExpirySlackMs: 1_500,
});

describe('EtcdMetaKV under etcd failures', () => {
  const clients: EtcdMetaKV[] = [];
  const client = (options: Partial<EtcdMetaKVOptions> = {}): EtcdMetaKV => {
    const kv = new EtcdMetaKV({ endpoints: [endpoint()], requestTimeoutMs: 2_000, ...options });
    clients.push(kv);
    return kv;
  };
  afterEach(async () => {
    await etcd?.resume();
    await Promise.all(clients.splice(0).map((kv) => kv.close()));
  });

  it('an open watch resumes across an etcd SIGKILL + restart: no event lost or repeated', async () => {
    const watcher = client({ watch: { progressIntervalMs: 1_000, retryInitialMs: 50, retryMaxMs: 500 } });
    const writer = client();
    const prefix = uniquePrefix('kill');
    const expected: unknown[] = [];
    const put = async (i: number): Promise<void> => {
      const { revision } = await writer.put(`${prefix}${i}`, String(i));
      expected.push({ rev: revision, events: [`put ${prefix}${i}=${i}`] });
    };
    await put(0);
    const watch = watcher.watch(prefix, { fromRevision: (expected[0] as { rev: number }).rev });
    const it = watch[Symbol.asyncIterator]();
    for (let i = 1; i < 5; i++) await put(i);
    expect((await take(it, 5)).map(brief)).toEqual(expected);

    await etcd!.kill('SIGKILL');
    await etcd!.restart();
    // The client recovers by itself: the next calls succeed once etcd is back.
    await waitFor(async () => (await writer.get(`${prefix}0`)) !== undefined, { timeoutMs: 15_000, message: 'client recovery' });
    for (let i = 5; i < 10; i++) await put(i);
    expect((await take(it, 5, 15_000)).map(brief)).toEqual(expected.slice(5));
    // Nothing extra queued behind: the next batch is the next write.
    await put(10);
    expect((await take(it, 1)).map(brief)).toEqual(expected.slice(10));
    await watch.close();
  });

  it('a slow consumer pauses the watch stream and still gets every revision, in order', async () => {
    const kv = client({ watch: { queueLimit: 2 } });
    const prefix = uniquePrefix('slow');
    const watch = kv.watch(prefix);
    await watch.ready();
    const revisions: number[] = [];
    for (let i = 0; i < 20; i++) revisions.push((await kv.put(`${prefix}${i}`, String(i))).revision);
    const got = await take(watch[Symbol.asyncIterator](), 20);
    expect(got.map((b) => (b.kind === 'events' ? b.revision : -1))).toEqual(revisions);
    await watch.close();
  });

  it('a stalled etcd (SIGSTOP) fails calls with INNER after the timeout, and they work after SIGCONT', async () => {
    const kv = client({ requestTimeoutMs: 500, watch: { progressIntervalMs: 500, retryInitialMs: 50, retryMaxMs: 500 } });
    const prefix = uniquePrefix('stall');
    await kv.put(`${prefix}a`, '1');
    const lease = await kv.leaseGrant(10_000);
    const watch = kv.watch(prefix, { fromRevision: (await kv.revision()) + 1 });
    const it = watch[Symbol.asyncIterator]();
    await etcd!.pause();
    try {
      const started = Date.now();
      await expectCode(kv.get(`${prefix}a`), StreamingCode.INNER);
      await expectCode(kv.put(`${prefix}b`, '2'), StreamingCode.INNER);
      await expectCode(kv.leaseKeepAliveOnce(lease.id), StreamingCode.INNER);
      // Three calls, each bounded by its 500 ms deadline (plenty of slack for a busy machine).
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      await etcd!.resume();
    }
    await waitFor(async () => (await kv.get(`${prefix}a`))?.value.toString() === '1', { timeoutMs: 15_000, message: 'reads after SIGCONT' });
    expect(await kv.leaseKeepAliveOnce(lease.id)).toBe(10_000);
    const { revision } = await kv.put(`${prefix}c`, '3');
    // The watch survived the stall; the timed-out put of b may or may not have been applied.
    const seen: string[] = [];
    while (!seen.includes(`put ${prefix}c=3`)) {
      const [batch] = await take(it, 1, 15_000);
      const b = brief(batch!) as { rev: number; events: string[] };
      expect(b.rev).toBeLessThanOrEqual(revision);
      seen.push(...b.events);
    }
    expect(seen.filter((e) => e !== `put ${prefix}b=2`)).toEqual([`put ${prefix}c=3`]);
    await watch.close();
  });
});
