/**
 * Active/standby coordinators in one process on a real etcd: exactly one of two is active; the
 * standby answers every RPC with the documented error (ON_SHUTDOWN / FAILED_PRECONDITION, cause
 * and trailer naming the active address) and `GetActiveCoordinator` names the active one; closing
 * the active hands over at once (well under the session TTL) to a coordinator with a larger
 * server id, with TSO timestamps still increasing and discovery versions superseding the old
 * ones; an active whose keepalives stop steps down by itself and the two never serve at once.
 * (The SIGKILL case, where the standby waits out the lease, is in test/e2e/coord-process.test.ts.)
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CoordinatorServer } from '../../coord/index.js';
import { ACTIVE_COORDINATOR_METADATA_KEY } from '../../coord/service/index.js';
import { StreamingCode, fromServiceError, waitFor } from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { uniquePrefix } from '../harness/unique.js';
import { versionOf } from '../unit/coord/service/fixtures/services-fixture.js';
import { allocateTimestamp, coordClients, coordTestConfig, newCoordinator, unary, type CoordClients } from './coord-server-fixture.js';

let etcd: EtcdProcess;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.close();
});

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

/** Two coordinators started together on one root; returns them as [active, standby]. */
async function startPair(ttlMs: number): Promise<{ active: CoordinatorServer; standby: CoordinatorServer; rootPath: string }> {
  const rootPath = `${uniquePrefix('coord-server-election')}meta`;
  const config = coordTestConfig({ endpoint: etcd.endpoint, rootPath, pchannels: 4, ttlMs });
  const servers = [newCoordinator(config, undefined, 'coord-a'), newCoordinator(config, undefined, 'coord-b')];
  for (const s of servers) cleanups.push(() => s.close());
  const infos = await Promise.all(servers.map((s) => s.start()));
  expect(infos.filter((i) => i.active)).toHaveLength(1);
  const activeIndex = infos.findIndex((i) => i.active);
  return { active: servers[activeIndex]!, standby: servers[1 - activeIndex]!, rootPath };
}

function clientsOf(server: CoordinatorServer): CoordClients {
  const clients = coordClients(server.address);
  cleanups.push(() => clients.close());
  return clients;
}

async function rejection(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

function expectStandbyError(error: grpc.ServiceError, activeAddress: string): void {
  expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
  const streaming = fromServiceError(error);
  expect(streaming.code).toBe(StreamingCode.ON_SHUTDOWN);
  expect(streaming.message).toContain(`the active coordinator is at ${activeAddress}`);
  expect(error.metadata.get(ACTIVE_COORDINATOR_METADATA_KEY)).toEqual([activeAddress]);
}

describe('coordinator election (in-process, real etcd)', () => {
  it('of two coordinators exactly one is active; the standby refuses with the active address', { timeout: 60_000 }, async () => {
    const { active, standby } = await startPair(2_000);
    expect(active.isActive).toBe(true);
    expect(standby.isActive).toBe(false);
    expect(standby.election?.activeAddress).toBe(active.address);
    const onStandby = clientsOf(standby);
    const onActive = clientsOf(active);

    expectStandbyError(await rejection(allocateTimestamp(onStandby.tso)), active.address);
    expectStandbyError(await rejection(unary((cb) => onStandby.admin.ListNodes({}, cb))), active.address);
    expectStandbyError(await rejection(unary((cb) => onStandby.assignment.UpdateWALBalancePolicy({}, cb))), active.address);
    const w = onStandby.watch();
    const status = await w.settled(10_000);
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(w.error?.message).toContain(`the active coordinator is at ${active.address}`);
    expect(w.received).toHaveLength(0);

    // Any coordinator names the active one.
    const expected = { server_id: active.info().serverId.toString(), address: active.address };
    expect(await unary((cb) => onStandby.admin.GetActiveCoordinator({}, cb))).toEqual(expected);
    expect(await unary((cb) => onActive.admin.GetActiveCoordinator({}, cb))).toEqual(expected);
    expect(await allocateTimestamp(onActive.tso)).toBeGreaterThan(0n);
  });

  it('closing the active hands over at once; timestamps keep increasing and versions supersede', { timeout: 60_000 }, async () => {
    // A long TTL, so a take-over within a fraction of it can only come from the revoke on close.
    const ttlMs = 10_000;
    const { active: old, standby: next } = await startPair(ttlMs);
    const oldId = old.info().serverId;
    const onOld = clientsOf(old);
    const before = await allocateTimestamp(onOld.tso, 10);
    const oldWatcher = onOld.watch();
    expect(versionOf(await oldWatcher.until(() => true, 'a snapshot', 15_000)).global).toBe(oldId);

    const closedAt = Date.now();
    await old.close();
    // The old active's discovery stream ended with ON_SHUTDOWN rather than a cut connection.
    const ended = await oldWatcher.settled(10_000);
    expect(ended.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(oldWatcher.error?.code).toBe(StreamingCode.ON_SHUTDOWN);

    await waitFor(() => next.isActive, { timeoutMs: ttlMs, intervalMs: 20, message: 'the standby takes over' });
    expect(Date.now() - closedAt).toBeLessThan(ttlMs / 2);
    const newId = next.info().serverId;
    expect(newId > oldId).toBe(true);
    const onNext = clientsOf(next);
    const after = await allocateTimestamp(onNext.tso);
    expect(after > before + 9n).toBe(true);
    const snapshot = await onNext.watch().until(() => true, 'a snapshot', 15_000);
    expect(versionOf(snapshot).global).toBe(newId);
    expect(await unary((cb) => onNext.admin.GetActiveCoordinator({}, cb))).toEqual({ server_id: newId.toString(), address: next.address });
  });

  it('an active whose keepalives stop steps down by itself; one coordinator serves again, never two at once', { timeout: 60_000 }, async () => {
    const { active, standby } = await startPair(2_000);
    const oldId = active.info().serverId;
    const watcher = clientsOf(active).watch();
    await watcher.until(() => true, 'a snapshot', 15_000);
    let overlap = false;
    const probe = setInterval(() => {
      if (active.isActive && standby.isActive) overlap = true;
    }, 5);
    cleanups.push(() => clearInterval(probe));

    active.election?.pauseKeepaliveForTesting();
    await waitFor(() => !active.isActive, { timeoutMs: 10_000, intervalMs: 20, message: 'the active steps down' });
    // Stepping down ends its discovery streams.
    const status = await watcher.settled(10_000);
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    // Both campaign again (the old one with a fresh session): exactly one serves, with a newer id.
    const serving = await waitFor(() => [active, standby].filter((s) => s.isActive).at(0), { timeoutMs: 15_000, message: 'one serves again' });
    expect(serving.info().serverId > oldId).toBe(true);
    const other = serving === active ? standby : active;
    await waitFor(() => other.election?.state.role === 'standby', { timeoutMs: 15_000, message: 'the other stands by' });
    expect(other.election?.activeAddress).toBe(serving.address);
    expect(await allocateTimestamp(clientsOf(serving).tso)).toBeGreaterThan(0n);
    expect(overlap).toBe(false);
  });
});
