/**
 * Sessions on both meta stores (embedded LevelDB and a real etcd): server ids, registration under a
 * lease, stopping, watch of a role, and self-fencing when keepalives stop succeeding — by a paused
 * keepalive, a revoked lease, a stalled etcd (SIGSTOP) and a killed one; a quick etcd restart is survived.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingCode } from '../../shared/errors/index.js';
import { EtcdMetaKV, LevelMetaKV, type MetaKV } from '../../shared/meta/index.js';
import {
  Session,
  STREAMING_NODE_ROLE,
  decodeSessionInfo,
  watchSessions,
  type SessionView,
} from '../../shared/meta/session/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { uniqueName } from '../harness/unique.js';
import { waitFor } from '../../shared/util/index.js';

interface StoreUnderTest {
  kv: MetaKV;
  close(): Promise<void>;
}

let etcd: EtcdProcess;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.close();
});

const stores: Array<[string, () => Promise<StoreUnderTest>]> = [
  [
    'level',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'session-level-'));
      const kv = await LevelMetaKV.open(dir);
      return { kv, close: async () => { await kv.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  ],
  [
    'etcd',
    async () => {
      const kv = new EtcdMetaKV({ endpoints: [etcd.endpoint], requestTimeoutMs: 1_000 });
      return { kv, close: () => kv.close() };
    },
  ],
];

async function nextView(it: AsyncIterator<SessionView>, until: (v: SessionView) => boolean): Promise<SessionView> {
  for (;;) {
    const r = await it.next();
    if (r.done) throw new Error('session watch ended');
    if (until(r.value)) return r.value;
  }
}

describe.each(stores)('sessions on %s', (_name, open) => {
  it('allocates distinct server ids to concurrent registrations and publishes Milvus SessionRaw JSON', async () => {
    const store = await open();
    const root = uniqueName('root');
    try {
      const sessions = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          Session.register({ kv: store.kv, rootPath: root, role: STREAMING_NODE_ROLE, address: `127.0.0.1:${20000 + i}`, ttlMs: 5_000 }),
        ),
      );
      const ids = sessions.map((s) => s.serverId).sort((a, b) => (a < b ? -1 : 1));
      expect(ids).toEqual([1n, 2n, 3n, 4n, 5n]);
      const kv = await store.kv.get(`${root}/session/streamingnode-3`);
      expect(kv).toBeDefined();
      expect(kv!.lease).not.toBe('0');
      const raw = JSON.parse(kv!.value.toString('utf8')) as Record<string, unknown>;
      expect(raw).toMatchObject({ ServerID: 3, ServerName: 'streamingnode', Stopping: false, Exclusive: false });
      expect(decodeSessionInfo(kv!.key, kv!.value).address).toMatch(/^127\.0\.0\.1:2000\d$/);
      expect((await store.kv.get(`${root}/session/id`))!.value.toString()).toBe('6');
      await Promise.all(sessions.map((s) => s.close()));
    } finally {
      await store.close();
    }
  });

  it('marks stopping, then close revokes the lease and deletes the key; close is idempotent', async () => {
    const store = await open();
    const root = uniqueName('root');
    try {
      const s = await Session.register({ kv: store.kv, rootPath: root, role: STREAMING_NODE_ROLE, address: 'a:1', ttlMs: 5_000 });
      await s.markStopping();
      expect(s.state).toBe('stopping');
      const kv = await store.kv.get(s.key);
      expect(decodeSessionInfo(s.key, kv!.value).stopping).toBe(true);
      const first = s.close();
      expect(s.close()).toBe(first);
      await first;
      expect(s.state).toBe('closed');
      expect(await store.kv.get(s.key)).toBeUndefined();
      expect(s.signal.aborted).toBe(true);
      expect((await s.done()).code).toBe(StreamingCode.ON_SHUTDOWN);
    } finally {
      await store.close();
    }
  });

  it('watchSessions shows joins, stopping and departures in order', async () => {
    const store = await open();
    const root = uniqueName('root');
    const ac = new AbortController();
    try {
      const views = watchSessions(store.kv, root, STREAMING_NODE_ROLE, { signal: ac.signal })[Symbol.asyncIterator]();
      expect((await nextView(views, () => true)).sessions.size).toBe(0);
      const a = await Session.register({ kv: store.kv, rootPath: root, role: STREAMING_NODE_ROLE, address: 'a:1', ttlMs: 5_000 });
      const b = await Session.register({ kv: store.kv, rootPath: root, role: STREAMING_NODE_ROLE, address: 'b:1', ttlMs: 5_000 });
      const both = await nextView(views, (v) => v.sessions.size === 2);
      expect([...both.sessions.values()].map((s) => s.address).sort()).toEqual(['a:1', 'b:1']);
      await a.markStopping();
      const stopping = await nextView(views, (v) => v.sessions.get(a.serverId)?.stopping === true);
      expect(stopping.revision).toBeGreaterThan(both.revision);
      await a.close();
      const gone = await nextView(views, (v) => !v.sessions.has(a.serverId));
      expect([...gone.sessions.keys()]).toEqual([b.serverId]);
      await b.close();
      // Another role's sessions are not part of this view.
      await Session.register({ kv: store.kv, rootPath: root, role: 'streamingcoord', address: 'c:1', ttlMs: 5_000 }).then((c) => c.close());
      expect((await nextView(views, () => true)).sessions.size).toBe(0);
    } finally {
      ac.abort();
      await store.close();
    }
  });

  it('fences itself before the lease can expire when keepalives stop', async () => {
    const store = await open();
    const root = uniqueName('root');
    try {
      const s = await Session.register({
        kv: store.kv, rootPath: root, role: STREAMING_NODE_ROLE, address: 'a:1',
        ttlMs: 2_000, keepaliveIntervalMs: 300, selfFenceMarginMs: 700,
      });
      const registeredAt = Date.now();
      s.pauseKeepaliveForTesting();
      const reason = await s.done();
      const lostAfter = Date.now() - registeredAt;
      expect(reason.code).toBe(StreamingCode.ON_SHUTDOWN);
      expect(reason.message).toMatch(/no successful keepalive/);
      expect(s.state).toBe('lost');
      // Fenced on our own timer, while the store still holds the lease: the key is still there.
      expect(lostAfter).toBeLessThan(2_000);
      expect(await store.kv.get(s.key)).toBeDefined();
      await s.close();
      expect(await store.kv.get(s.key)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('is lost at once when its lease is revoked behind its back', async () => {
    const store = await open();
    const root = uniqueName('root');
    try {
      const s = await Session.register({
        kv: store.kv, rootPath: root, role: STREAMING_NODE_ROLE, address: 'a:1',
        ttlMs: 10_000, keepaliveIntervalMs: 200,
      });
      await store.kv.leaseRevoke(s.leaseId);
      const reason = await s.done();
      expect(s.state).toBe('lost');
      expect(reason.message).toMatch(/not found/);
      await s.close();
    } finally {
      await store.close();
    }
  });
});

describe('sessions against etcd failures', () => {
  it('a stalled etcd (SIGSTOP) makes the session fence itself within TTL − margin', async () => {
    const kv = new EtcdMetaKV({ endpoints: [etcd.endpoint], requestTimeoutMs: 500 });
    try {
      const s = await Session.register({
        kv, rootPath: uniqueName('root'), role: STREAMING_NODE_ROLE, address: 'a:1',
        ttlMs: 3_000, keepaliveIntervalMs: 300, selfFenceMarginMs: 1_000,
      });
      const pausedAt = Date.now();
      await etcd.pause();
      try {
        await s.done();
        // The last keepalive was sent at most one interval before the pause: lost by
        // TTL − margin after it, far sooner than the 2 × TTL the etcd3 client would need.
        expect(Date.now() - pausedAt).toBeLessThan(3_000 - 1_000 + 1_000);
        expect(s.state).toBe('lost');
      } finally {
        await etcd.resume();
      }
      await s.close();
    } finally {
      await kv.close();
    }
  });

  it('survives an etcd restart shorter than its fencing window, and is lost after a longer outage', async () => {
    const kv = new EtcdMetaKV({ endpoints: [etcd.endpoint], requestTimeoutMs: 500 });
    try {
      const root = uniqueName('root');
      const s = await Session.register({
        kv, rootPath: root, role: STREAMING_NODE_ROLE, address: 'a:1',
        ttlMs: 8_000, keepaliveIntervalMs: 500, selfFenceMarginMs: 2_000,
      });
      await etcd.kill('SIGKILL');
      await etcd.restart();
      // Keepalives succeed again and the key is still there.
      await waitFor(async () => (await kv.get(s.key)) !== undefined, { timeoutMs: 10_000 });
      const before = Date.now();
      await waitFor(() => Date.now() - before > 1_500, { timeoutMs: 3_000, intervalMs: 100 });
      expect(s.state).toBe('alive');

      await etcd.kill('SIGKILL');
      const reason = await s.done();
      expect(reason.code).toBe(StreamingCode.ON_SHUTDOWN);
      expect(s.state).toBe('lost');
      await etcd.restart();
      await s.close(); // best-effort revoke of the lease once etcd is back
      await waitFor(async () => (await kv.get(s.key)) === undefined, { timeoutMs: 15_000 });
    } finally {
      await kv.close();
    }
  });
});
