/**
 * `walctl node` as a real child process (through tsx) against a real etcd: it prints one JSON
 * ready line, publishes its session, opens real LevelDB WALs on Assign (timestamps from its own
 * clock, or from the coordinator's TsoService with `--coord`), and on SIGTERM stops cleanly
 * (exit code 0) with its session gone. Bad configuration exits 2 without a ready line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EtcdMetaKV,
  type ProtoOutput,
  type StreamingNodeManagerServiceClient,
  clientConstructors,
  decodeSessionInfo,
  pchannelInfo,
  pchannelInfoToProto,
} from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { useProcesses } from '../harness/procs.js';
import { uniqueName } from '../harness/unique.js';
import { FakeTsoServer } from '../integration/node-tso-server.js';
import { unary } from '../harness/grpc-unary.js';

const ROOT = resolve(import.meta.dirname, '../..');
const READY_TIMEOUT_MS = 45_000;

const start = useProcesses();
let etcd: EtcdProcess;
let kv: EtcdMetaKV;
let tmp: string;
beforeAll(async () => {
  etcd = await startEtcd();
  kv = new EtcdMetaKV({ endpoints: [etcd.endpoint] });
  tmp = mkdtempSync(join(tmpdir(), 'node-process-'));
});
afterAll(async () => {
  await kv?.close();
  await etcd?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function walctlNode(root: string, extra: readonly string[] = [], waitReady = true) {
  const dataRoot = join(tmp, uniqueName('data'));
  const args = ['--import', 'tsx', 'cli/main.ts', 'node', '--etcd', etcd.endpoint, '--root', root, '--data-root', dataRoot, '--port', '0', '--session-ttl', '2000', ...extra];
  return start({ cmd: process.execPath, args, cwd: ROOT, name: 'walctl-node', readyTimeoutMs: READY_TIMEOUT_MS, waitReady, env: { STREAMING_LOG_LEVEL: undefined } });
}

function manager(address: string): StreamingNodeManagerServiceClient {
  return new (clientConstructors().streamingNodeManager)(address, grpc.credentials.createInsecure()) as StreamingNodeManagerServiceClient;
}

describe('walctl node (process)', () => {
  it('serves, publishes its session, opens real WALs, and stops cleanly on SIGTERM', { timeout: 90_000 }, async () => {
    const root = uniqueName('e2e-root');
    const node = await walctlNode(root);
    const ready = node.ready;
    expect(ready).toMatchObject({ msg: 'ready', role: 'streamingnode' });
    expect(node.lines('stdout').filter((l) => l.includes('"ready"'))).toHaveLength(1);
    const address = String(ready['address']);
    expect(address).toBe(`127.0.0.1:${String(ready['grpcPort'])}`);
    const key = `${root}/session/streamingnode-${String(ready['serverId'])}`;
    const session = await kv.get(key);
    expect(session).toBeDefined();
    expect(decodeSessionInfo(session!.key, session!.value)).toMatchObject({ address, stopping: false });

    const client = manager(address);
    try {
      await unary((cb) => client.Assign({ pchannel: pchannelInfoToProto(pchannelInfo('by-dev-rootcoord-dml_0', 1n)) }, cb));
      const status = await unary<ProtoOutput<'milvus.proto.streaming.StreamingNodeManagerCollectStatusResponse'>>((cb) => client.CollectStatus({}, cb));
      const wals = status.metrics?.wals ?? [];
      expect(wals.map((w) => w.info?.name)).toEqual(['by-dev-rootcoord-dml_0']);
      expect(BigInt(wals[0]!.rw!.mvcc_time_tick) > 0n).toBe(true);
    } finally {
      client.close();
    }

    const exit = await node.stop(20_000);
    expect(exit, node.output()).toEqual({ code: 0, signal: null });
    expect(await kv.get(key)).toBeUndefined();
    expect(node.lines('stderr').some((l) => l.includes('"streaming node exiting"') && l.includes('"code":0'))).toBe(true);
  });

  it('takes its timestamps from the coordinator given --coord', { timeout: 90_000 }, async () => {
    const tso = new FakeTsoServer();
    await tso.start();
    try {
      const node = await walctlNode(uniqueName('e2e-root'), ['--coord', tso.address]);
      const client = manager(String(node.ready['address']));
      try {
        await unary((cb) => client.Assign({ pchannel: pchannelInfoToProto(pchannelInfo('by-dev-rootcoord-dml_3', 5n)) }, cb));
      } finally {
        client.close();
      }
      expect(tso.requests.length).toBeGreaterThan(0);
      expect(await node.stop(20_000)).toEqual({ code: 0, signal: null });
    } finally {
      tso.stop();
    }
  });

  it('exits 2 on an invalid configuration, without a ready line', { timeout: 60_000 }, async () => {
    const node = await walctlNode(uniqueName('e2e-root'), ['--session-ttl', '100'], false);
    const exit = await node.waitExit(READY_TIMEOUT_MS);
    expect(exit.code, node.output()).toBe(2);
    expect(node.lines('stderr').join('\n')).toContain('session.ttlMs');
    expect(node.lines('stdout').some((l) => l.includes('"ready"'))).toBe(false);
  });
});
