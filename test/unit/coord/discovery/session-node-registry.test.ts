/**
 * SessionNodeRegistry's bookkeeping on the embedded meta store with recording fake clients (no
 * sockets): first listing before start() resolves, one client per node created on join and closed
 * on leave or address change, stopping nodes kept, the version gate, views published only on
 * change, and an idempotent close that closes every client and completes views$.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import { LevelMetaKV } from '../../../../shared/meta/index.js';
import { STREAMING_NODE_ROLE, encodeSessionInfo, sessionKey } from '../../../../shared/meta/session/index.js';
import { waitFor } from '../../../../shared/util/index.js';
import {
  type ClosableNodeManagerClient,
  type NodeView,
  SessionNodeRegistry,
  type StreamingNodeStatus,
} from '../../../../coord/discovery/index.js';

const ROOT = 'by-dev/meta';

class RecordingClient implements ClosableNodeManagerClient {
  closeCalls = 0;
  constructor(readonly serverId: bigint, readonly address: string) {}
  assign(): Promise<void> {
    return Promise.resolve();
  }
  remove(): Promise<void> {
    return Promise.resolve();
  }
  collectStatus(): Promise<[]> {
    return Promise.resolve([]);
  }
  close(): Promise<void> {
    this.closeCalls++;
    return Promise.resolve();
  }
}

let dir: string;
let kv: LevelMetaKV;
let created: RecordingClient[];
let registry: SessionNodeRegistry | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'node-registry-'));
  kv = await LevelMetaKV.open(dir);
  created = [];
});
afterEach(async () => {
  await registry?.close();
  registry = undefined;
  await kv.close();
  rmSync(dir, { recursive: true, force: true });
});

function putSession(serverId: bigint, address: string, extra: { stopping?: boolean; version?: string } = {}): Promise<unknown> {
  const info = { serverId, role: STREAMING_NODE_ROLE, address, stopping: extra.stopping ?? false, version: extra.version ?? '2.6.0', leaseId: '0', hostName: 'h' };
  return kv.put(sessionKey(ROOT, STREAMING_NODE_ROLE, serverId), encodeSessionInfo(info));
}

function deleteSession(serverId: bigint): Promise<number> {
  return kv.delete(sessionKey(ROOT, STREAMING_NODE_ROLE, serverId));
}

function newRegistry(minVersion?: string): SessionNodeRegistry {
  registry = new SessionNodeRegistry({
    kv,
    rootPath: ROOT,
    ...(minVersion !== undefined ? { minVersion } : {}),
    createClient: (node: StreamingNodeStatus) => {
      const client = new RecordingClient(node.serverId, node.address);
      created.push(client);
      return client;
    },
  });
  return registry;
}

function addresses(view: NodeView): Record<string, string> {
  return Object.fromEntries([...view.nodes].map(([id, n]) => [id.toString(), n.address]));
}

describe('SessionNodeRegistry', () => {
  it('is empty before start and publishes the first listing (even an empty one) before start resolves', async () => {
    const r = newRegistry();
    expect(r.current()).toEqual({ revision: 0, nodes: new Map() });
    await r.start();
    expect(r.current().revision).toBeGreaterThan(0);
    expect(r.current().nodes.size).toBe(0);
  });

  it('lists existing nodes at start with one client each', async () => {
    await putSession(1n, '10.0.0.1:22222');
    await putSession(2n, '10.0.0.2:22222');
    const r = newRegistry();
    await r.start();
    expect(addresses(r.current())).toEqual({ '1': '10.0.0.1:22222', '2': '10.0.0.2:22222' });
    expect(r.client(1n)?.address).toBe('10.0.0.1:22222');
    expect(r.client(2n)?.serverId).toBe(2n);
    expect(r.client(3n)).toBeUndefined();
    expect(created).toHaveLength(2);
  });

  it('creates a client on join, closes it on leave, and replaces it when the address changes', async () => {
    const r = newRegistry();
    await r.start();
    await putSession(5n, 'a:1');
    await waitFor(() => r.client(5n));
    const first = created[0]!;

    await putSession(5n, 'b:2');
    await waitFor(() => r.current().nodes.get(5n)?.address === 'b:2');
    expect(first.closeCalls).toBe(1);
    expect(r.client(5n)).not.toBe(first);
    expect(r.client(5n)?.address).toBe('b:2');

    await deleteSession(5n);
    await waitFor(() => r.current().nodes.size === 0);
    expect(r.client(5n)).toBeUndefined();
    expect(created.map((c) => c.closeCalls)).toEqual([1, 1]);
  });

  it('keeps a stopping node, with its client', async () => {
    await putSession(7n, 'n7:1');
    const r = newRegistry();
    await r.start();
    const client = r.client(7n);
    await putSession(7n, 'n7:1', { stopping: true });
    await waitFor(() => r.current().nodes.get(7n)?.stopping);
    expect(r.client(7n)).toBe(client);
    expect(created).toHaveLength(1);
  });

  it('ignores nodes below the minimum version when asked to', async () => {
    await putSession(1n, 'old:1', { version: '2.5.9' });
    await putSession(2n, 'new:1', { version: '2.6.0' });
    await putSession(3n, 'odd:1', { version: 'garbage' });
    const r = newRegistry('2.6.0-dev');
    await r.start();
    expect([...r.current().nodes.keys()]).toEqual([2n]);
    expect(r.client(1n)).toBeUndefined();
  });

  it('publishes views on node changes only, latest value replayed to new subscribers', async () => {
    const r = newRegistry('2.6.0');
    await r.start();
    const views = r.views$.pipe(toArray());
    const all = firstValueFrom(views);
    await putSession(1n, 'old:1', { version: '2.0.0' }); // filtered: no new view
    await putSession(2n, 'x:1');
    await waitFor(() => r.current().nodes.size === 1);
    const late = await firstValueFrom(r.views$);
    expect(late).toBe(r.current());
    await r.close();
    const seen = await all;
    expect(seen.map((v) => v.nodes.size)).toEqual([0, 1]);
    expect(seen[1]!.revision).toBeGreaterThan(seen[0]!.revision);
  });

  it('close is idempotent, closes every client and completes views$', async () => {
    await putSession(1n, 'a:1');
    await putSession(2n, 'b:1');
    const r = newRegistry();
    await r.start();
    const completed = firstValueFrom(r.views$.pipe(filter(() => false)), { defaultValue: 'completed' });
    const first = r.close();
    expect(r.close()).toBe(first);
    await first;
    expect(await completed).toBe('completed');
    expect(created.map((c) => c.closeCalls)).toEqual([1, 1]);
    expect(r.client(1n)).toBeUndefined();
    await expect(r.closed()).resolves.toBeUndefined();
  });

  it('start fails when the store is closed, and close before start is harmless', async () => {
    const idle = newRegistry();
    await idle.close();
    await kv.close();
    const r = new SessionNodeRegistry({ kv, rootPath: ROOT, createClient: (n) => new RecordingClient(n.serverId, n.address) });
    const err = await r.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StreamingError);
    expect((err as StreamingError).code).toBe(StreamingCode.ON_SHUTDOWN);
    await r.close();
  });
});
