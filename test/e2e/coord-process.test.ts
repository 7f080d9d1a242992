/**
 * The coordinator as real child processes (`node --import tsx coord/main.ts`) on a real etcd:
 * one JSON ready line; a second coordinator stands by and refuses calls naming the active one;
 * after SIGKILL of the active one the standby serves within the session TTL + 2 s, with TSO
 * timestamps still increasing; SIGTERM stops cleanly (exit 0, election key and session gone);
 * a bad configuration exits 2 without a ready line; without etcd it runs on the embedded store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinatorElectionKey } from '../../coord/election/index.js';
import { ACTIVE_COORDINATOR_METADATA_KEY } from '../../coord/service/index.js';
import { EtcdMetaKV, STREAMING_COORD_ROLE, StreamingCode, clientConstructors, fromServiceError, sessionRolePrefix, waitFor } from '../../shared/index.js';
import type { TsoServiceClient, WalAdminServiceClient } from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { useProcesses, type TestProcess } from '../harness/procs.js';
import { uniqueName } from '../harness/unique.js';
import { unary } from '../harness/grpc-unary.js';

const ROOT = resolve(import.meta.dirname, '../..');
const READY_TIMEOUT_MS = 45_000;
const TTL_MS = 3_000;

const start = useProcesses();
let etcd: EtcdProcess;
let kv: EtcdMetaKV;
let tmp: string;
beforeAll(async () => {
  etcd = await startEtcd();
  kv = new EtcdMetaKV({ endpoints: [etcd.endpoint] });
  tmp = mkdtempSync(join(tmpdir(), 'coord-process-'));
});
afterAll(async () => {
  await kv?.close();
  await etcd?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function coordProcess(args: readonly string[], waitReady = true): Promise<TestProcess> {
  return start({
    cmd: process.execPath,
    args: ['--import', 'tsx', 'coord/main.ts', '--port', '0', '--pchannels', '4', ...args],
    cwd: ROOT,
    name: 'coord',
    readyTimeoutMs: READY_TIMEOUT_MS,
    waitReady,
    env: { STREAMING_LOG_LEVEL: undefined, STREAMING_ETCD_ENDPOINTS: undefined },
  });
}

function etcdCoord(root: string): Promise<TestProcess> {
  return coordProcess(['--etcd', etcd.endpoint, '--root', root, '--session-ttl-ms', String(TTL_MS)]);
}

interface Clients {
  readonly tso: TsoServiceClient;
  readonly admin: WalAdminServiceClient;
  close(): void;
}

function clients(address: string): Clients {
  const ctor = clientConstructors();
  const tso = new ctor.tso(address, grpc.credentials.createInsecure());
  const admin = new ctor.walAdmin(address, grpc.credentials.createInsecure());
  return { tso, admin, close: () => (tso.close(), admin.close()) };
}

async function timestamp(c: Clients): Promise<bigint> {
  const res = await unary<{ timestamp: string }>((cb) => c.tso.AllocateTimestamps({ count: 1 }, cb));
  return BigInt(res.timestamp);
}

describe('coord/main.ts (process)', () => {
  it('fails over to the standby within TTL + 2 s of a SIGKILL, timestamps still increasing; SIGTERM stops cleanly', { timeout: 120_000 }, async () => {
    const root = uniqueName('e2e-coord');
    const a = await etcdCoord(root);
    expect(a.ready).toMatchObject({ msg: 'ready', role: 'streamingcoord', active: true });
    expect(a.lines('stdout').filter((l) => l.includes('"ready"'))).toHaveLength(1);
    const aAddress = String(a.ready['address']);
    expect(aAddress).toBe(`127.0.0.1:${String(a.ready['grpcPort'])}`);
    const b = await etcdCoord(root);
    expect(b.ready).toMatchObject({ msg: 'ready', role: 'streamingcoord', active: false });
    const bAddress = String(b.ready['address']);

    const onA = clients(aAddress);
    const onB = clients(bAddress);
    try {
      const before = await timestamp(onA);
      // The standby refuses, naming the active coordinator (in the cause and in a trailer).
      const refused = await timestamp(onB).then(
        () => undefined,
        (e: unknown) => e as grpc.ServiceError,
      );
      expect(refused?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(fromServiceError(refused).code).toBe(StreamingCode.ON_SHUTDOWN);
      expect(fromServiceError(refused).message).toContain(`the active coordinator is at ${aAddress}`);
      expect(refused?.metadata.get(ACTIVE_COORDINATOR_METADATA_KEY)).toEqual([aAddress]);

      const killedAt = Date.now();
      a.kill('SIGKILL');
      const after = await waitFor(() => timestamp(onB), { timeoutMs: TTL_MS + 10_000, intervalMs: 50, message: 'the standby serves TSO' });
      const failoverMs = Date.now() - killedAt;
      expect(failoverMs, `fail-over took ${failoverMs} ms`).toBeLessThan(TTL_MS + 2_000);
      expect(after > before).toBe(true);
      const active = await unary<{ server_id: string; address: string }>((cb) => onB.admin.GetActiveCoordinator({}, cb));
      expect(active.address).toBe(bAddress);
      expect(BigInt(active.server_id) > BigInt(String(a.ready['serverId']))).toBe(true);
    } finally {
      onA.close();
      onB.close();
    }

    const exit = await b.stop(20_000);
    expect(exit, b.output()).toEqual({ code: 0, signal: null });
    expect(await kv.get(coordinatorElectionKey(root))).toBeUndefined();
    const sessions = await kv.range(sessionRolePrefix(root, STREAMING_COORD_ROLE));
    expect(sessions.kvs).toHaveLength(0);
    expect(b.lines('stderr').some((l) => l.includes('"streaming coordinator exiting"') && l.includes('"code":0'))).toBe(true);
  });

  it('exits 2 on an invalid configuration, without a ready line', { timeout: 60_000 }, async () => {
    const proc = await coordProcess(['--etcd', etcd.endpoint, '--root', uniqueName('e2e-coord'), '--session-ttl-ms', '100'], false);
    const exit = await proc.waitExit(READY_TIMEOUT_MS);
    expect(exit.code, proc.output()).toBe(2);
    expect(proc.lines('stderr').join('\n')).toContain('session.ttlMs');
    expect(proc.lines('stdout').some((l) => l.includes('"ready"'))).toBe(false);
  });

  it('runs on the embedded meta store without etcd', { timeout: 60_000 }, async () => {
    const dataDir = join(tmp, uniqueName('data'));
    const proc = await coordProcess(['--data-dir', dataDir]);
    expect(proc.ready).toMatchObject({ msg: 'ready', role: 'streamingcoord', active: true, serverId: 1 });
    const c = clients(String(proc.ready['address']));
    try {
      expect(await timestamp(c)).toBeGreaterThan(0n);
    } finally {
      c.close();
    }
    expect(await proc.stop(20_000)).toEqual({ code: 0, signal: null });
  });
});
