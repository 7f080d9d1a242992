/**
 * NodeSession on the embedded meta store (no sockets): registration (with retries while the
 * store fails), graceful stopping then revoke, self-fence → WALs closed → re-registration under a
 * new server id, the `exit` policy, and close() interrupting a re-registration.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeSession, type NodeSessionHooks, type NodeSessionOptions } from '../../../../node/session/index.js';
import {
  LevelMetaKV,
  type MetaKV,
  StreamingCode,
  StreamingError,
  createMetrics,
  decodeSessionInfo,
  Registry,
  waitFor,
} from '../../../../shared/index.js';

const ROOT = 'by-dev/meta';
const KEY_PREFIX = `${ROOT}/session/streamingnode-`;
/** Fences 500 ms after the last successful keepalive. */
const SESSION = { ttlMs: 2_000, keepaliveIntervalMs: 100, selfFenceMarginMs: 1_500 };

/** The store, with a switch that makes every call fail as if it were unreachable. */
function flaky(kv: MetaKV): { kv: MetaKV; setDown(down: boolean): void; refused(): number } {
  let down = false;
  let refused = 0;
  const proxy = new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        if (down) {
          refused++;
          return Promise.reject(StreamingError.inner(`meta store unreachable (${String(prop)})`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kv: proxy, setDown: (d) => void (down = d), refused: () => refused };
}

describe('NodeSession', () => {
  let dir: string;
  let level: LevelMetaKV;
  let store: ReturnType<typeof flaky>;
  let sessions: NodeSession[];
  let events: string[];
  let hooks: NodeSessionHooks;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'node-session-'));
    level = await LevelMetaKV.open(dir);
    store = flaky(level);
    sessions = [];
    events = [];
    hooks = {
      onLost: async (reason) => void events.push(`lost:${reason.code}`),
      beforeReregister: () => void events.push('before-reregister'),
      onRegistered: (id) => void events.push(`registered:${id}`),
      onGiveUp: (reason) => void events.push(`give-up:${reason.code}`),
    };
  });
  afterEach(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await level.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function create(overrides: Partial<NodeSessionOptions> = {}): NodeSession {
    const session = new NodeSession({
      kv: store.kv,
      rootPath: ROOT,
      address: '127.0.0.1:4242',
      session: SESSION,
      hooks,
      registerBackoff: { initialMs: 10, maxMs: 50 },
      ...overrides,
    });
    sessions.push(session);
    return session;
  }

  async function sessionKeys(): Promise<string[]> {
    return (await level.range(KEY_PREFIX)).kvs.map((kv) => kv.key);
  }

  it('registers, marks itself stopping, then revokes its key', async () => {
    const metrics = createMetrics(new Registry());
    const session = create({ metrics });
    const id = await session.start();
    expect(session.serverId).toBe(id);
    expect(session.state).toBe('alive');
    expect(events).toEqual([`registered:${id}`]);
    const kv = await level.get(`${KEY_PREFIX}${id}`);
    expect(decodeSessionInfo(kv!.key, kv!.value)).toMatchObject({ address: '127.0.0.1:4242', stopping: false, role: 'streamingnode' });
    await session.markStopping();
    const stopping = await level.get(`${KEY_PREFIX}${id}`);
    expect(decodeSessionInfo(stopping!.key, stopping!.value).stopping).toBe(true);
    await session.close();
    expect(await sessionKeys()).toEqual([]);
    expect(session.state).toBe('closed');
    expect(await metrics.registry.getSingleMetricAsString('milvus_streaming_session_state')).toContain('state="closed"} 1');
  });

  it('retries registration while the store is unreachable', async () => {
    store.setDown(true);
    const session = create();
    const started = session.start();
    await waitFor(() => store.refused() >= 3);
    store.setDown(false);
    const id = await started;
    expect(await sessionKeys()).toEqual([`${KEY_PREFIX}${id}`]);
  });

  it('after a self-fence closes the WALs first, then registers again under a new server id', async () => {
    const session = create();
    const first = await session.start();
    session.session!.pauseKeepaliveForTesting();
    await waitFor(() => session.state === 'alive' && session.serverId !== first, { timeoutMs: 10_000 });
    const second = session.serverId!;
    expect(second).not.toBe(first);
    expect(events).toEqual([`registered:${first}`, `lost:${StreamingCode.ON_SHUTDOWN}`, 'before-reregister', `registered:${second}`]);
    expect(await sessionKeys()).toEqual([`${KEY_PREFIX}${second}`]);
  });

  it('gives up instead under the exit policy', async () => {
    const session = create({ onLost: 'exit' });
    const first = await session.start();
    session.session!.pauseKeepaliveForTesting();
    await waitFor(() => events.some((e) => e.startsWith('give-up')), { timeoutMs: 10_000 });
    expect(events).toEqual([`registered:${first}`, `lost:${StreamingCode.ON_SHUTDOWN}`, `give-up:${StreamingCode.ON_SHUTDOWN}`]);
    expect(session.serverId).toBeUndefined();
    expect(await sessionKeys()).toEqual([]);
  });

  it('close() ends a re-registration that waits for the store', async () => {
    const session = create();
    await session.start();
    store.setDown(true); // keepalives fail from now on: the session fences itself, then cannot register
    await waitFor(() => session.state === 'registering', { timeoutMs: 10_000 });
    await session.close();
    expect(session.state).toBe('closed');
    expect(events.filter((e) => e.startsWith('registered'))).toHaveLength(1);
    store.setDown(false);
  });

  it('start() stops retrying when its signal aborts', async () => {
    store.setDown(true);
    const abort = new AbortController();
    const started = create().start(abort.signal);
    abort.abort(StreamingError.onShutdown('node closing'));
    await expect(started).rejects.toThrow('node closing');
  });
});
