/**
 * CoordinatorElection on the embedded meta store (no sockets, no etcd): one active and one
 * standby, hand-over at once on close with a larger server id, stepping down when the key is
 * deleted or the session fences itself (before its lease expires), the key's value, states$
 * and an idempotent close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoordinatorElection, coordinatorElectionKey, type ElectionState } from '../../../../coord/election/index.js';
import { LevelMetaKV, STREAMING_COORD_ROLE, decodeSessionInfo, sessionKey, waitFor } from '../../../../shared/index.js';

const ROOT = 'by-dev/meta';
const TTL_MS = 2_000;

let dir: string;
let kv: LevelMetaKV;
let elections: CoordinatorElection[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'coord-election-'));
  kv = await LevelMetaKV.open(dir);
  elections = [];
});
afterEach(async () => {
  await Promise.allSettled(elections.map((e) => e.close()));
  await kv.close();
  rmSync(dir, { recursive: true, force: true });
});

function election(address: string, extra: Partial<ConstructorParameters<typeof CoordinatorElection>[0]> = {}): CoordinatorElection {
  const e = new CoordinatorElection({
    kv,
    rootPath: ROOT,
    address,
    ttlMs: TTL_MS,
    keepaliveIntervalMs: 300,
    selfFenceMarginMs: 500,
    retryBackoff: { initialMs: 10, maxMs: 100 },
    ...extra,
  });
  elections.push(e);
  return e;
}

function activeState(e: CoordinatorElection): Extract<ElectionState, { role: 'active' }> {
  const s = e.state;
  if (s.role !== 'active') throw new Error(`expected active, got ${s.role}`);
  return s;
}

describe('CoordinatorElection', () => {
  it('elects the first as active and keeps the second standing by, naming the active one', async () => {
    const a = election('a:1');
    const b = election('b:1');
    expect((await a.start()).role).toBe('active');
    const sb = await b.start();
    expect(sb.role).toBe('standby');
    expect(b.isActive).toBe(false);
    expect(b.activeAddress).toBe('a:1');
    expect(b.leader).toEqual({ serverId: a.serverId, address: 'a:1' });
    expect(a.leader).toEqual({ serverId: a.serverId, address: 'a:1' });

    // The key is the active's session in Milvus SessionRaw JSON, under the active's lease.
    expect(a.key).toBe(coordinatorElectionKey(ROOT));
    expect(a.key).toBe('by-dev/meta/session/streamingcoord');
    const stored = await kv.get(a.key);
    expect(stored).toBeDefined();
    const info = decodeSessionInfo(stored!.key, stored!.value);
    expect(info).toMatchObject({ serverId: a.serverId, address: 'a:1', role: STREAMING_COORD_ROLE });
    // Both are visible as coordinator sessions.
    expect(await kv.get(sessionKey(ROOT, STREAMING_COORD_ROLE, a.serverId!))).toBeDefined();
    expect(await kv.get(sessionKey(ROOT, STREAMING_COORD_ROLE, b.serverId!))).toBeDefined();
  });

  it('an active that closes hands over at once to the standby, whose new server id is larger', async () => {
    // A long TTL: a take-over well within it can only come from the revoke on close.
    const long = { ttlMs: 10_000, keepaliveIntervalMs: 1_000, selfFenceMarginMs: 2_000 };
    const a = election('a:1', long);
    const b = election('b:1', long);
    await a.start();
    await b.start();
    const leadership = activeState(a).signal;
    const aId = a.serverId!;
    const standbyId = b.serverId!;
    const started = Date.now();
    await a.close();
    expect(leadership.aborted).toBe(true);
    expect(a.state.role).toBe('closed');
    await waitFor(() => b.isActive, { timeoutMs: 5_000, message: 'b takes over' });
    // Well under the lease TTL: the revoke deleted the key, nobody waited for an expiry.
    expect(Date.now() - started).toBeLessThan(long.ttlMs / 2);
    // A fresh session per campaign: ids grow past the old active's and the standby's own.
    expect(b.serverId! > aId).toBe(true);
    expect(b.serverId! > standbyId).toBe(true);
    expect(b.leader).toEqual({ serverId: b.serverId, address: 'b:1' });
    expect(await kv.get(sessionKey(ROOT, STREAMING_COORD_ROLE, standbyId))).toBeUndefined();
  });

  it('steps down when the key is deleted under it, then campaigns again with a new id', async () => {
    const a = election('a:1');
    await a.start();
    const first = activeState(a);
    await kv.delete(a.key);
    await waitFor(() => first.signal.aborted, { timeoutMs: 5_000, message: 'leadership ends' });
    expect(String((first.signal.reason as Error).message)).toContain('was deleted');
    await waitFor(() => a.isActive && a.serverId !== first.serverId, { timeoutMs: 5_000, message: 'a wins again' });
    expect(a.serverId! > first.serverId).toBe(true);
    expect(activeState(a).signal.aborted).toBe(false);
  });

  it('an active whose keepalives stop fences itself within the TTL; the election converges on one newer active, never two', async () => {
    const a = election('a:1');
    const b = election('b:1');
    await a.start();
    await b.start();
    const leadership = activeState(a).signal;
    const aId = a.serverId!;
    let overlap = false;
    const sub = b.states$.subscribe((s) => {
      if (s.role === 'active' && !leadership.aborted) overlap = true;
    });
    try {
      const paused = Date.now();
      a.pauseKeepaliveForTesting();
      await waitFor(() => leadership.aborted, { timeoutMs: 5_000, message: 'a steps down' });
      // The lease outlives the fence deadline (TTL − margin after the last keepalive sent).
      expect(Date.now() - paused).toBeLessThan(TTL_MS);
      expect(String((leadership.reason as Error).message)).toContain('lost');
      // Both campaign again (a with a fresh session whose keepalive runs): exactly one wins.
      await waitFor(() => [a, b].filter((e) => e.isActive).length === 1 && [a, b].some((e) => e.state.role === 'standby'), {
        timeoutMs: 10_000,
        message: 'one active, one standby',
      });
      const winner = a.isActive ? a : b;
      expect(winner.serverId! > aId).toBe(true);
      expect(overlap).toBe(false);
    } finally {
      sub.unsubscribe();
    }
  });

  it('publishes its states, completes states$ on close, and closes idempotently', async () => {
    const a = election('a:1');
    const states = firstValueFrom(a.states$.pipe(toArray()));
    const active = firstValueFrom(a.states$.pipe(filter((s) => s.role === 'active')));
    await a.start();
    await active;
    const closing = a.close();
    expect(a.close()).toBe(closing);
    await closing;
    await expect(a.closed()).resolves.toBeUndefined();
    const roles = (await states).map((s) => s.role);
    expect(roles[0]).toBe('starting');
    expect(roles).toContain('campaigning');
    expect(roles).toContain('active');
    expect(roles.at(-1)).toBe('closed');
    expect(await kv.get(a.key)).toBeUndefined();
    await expect(a.start()).rejects.toMatchObject({ name: 'StreamingError' });
  });

  it('start() rejects when the store is unusable', async () => {
    const a = election('a:1');
    await kv.close();
    await expect(a.start()).rejects.toBeDefined();
    expect(a.state.role).toBe('closed');
  });
});
