/**
 * `AssignmentDiscover` over real grpc-js on loopback, against the real ChannelManager and Balancer
 * (fake node registry and catalog): the full snapshot at once (idle nodes included), a newer
 * snapshot after a move, ten watchers converging, bounded buffering for a client that never
 * reads, report_error at the current term / stale term / unknown channel, the close handshake,
 * half-close, client cancel and server shutdown.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamingCode, waitFor } from '../../shared/index.js';
import { placed } from '../unit/coord/balancer/fakes/balancer-harness.js';
import { type ServicesFixture, channelsByNode, startServices, versionOf } from '../unit/coord/service/fixtures/services-fixture.js';

let f: ServicesFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('AssignmentDiscover', () => {
  it('sends the full snapshot at once, idle nodes included, then a newer one after a move', async () => {
    // No rebalancing: a joining node stays idle until node 1 is frozen.
    f = await startServices({ channelCount: 2, nodes: [1], policyConfig: { allowRebalance: false } });
    await placed(f.h);
    f.h.registry.join(2);
    const w = f.watch();
    const first = await w.until(() => true, 'first snapshot');
    expect(first.cchannel?.meta?.pchannel).toBe('dml_0');
    expect(first.streaming_version?.version).toBe('1');
    expect(first.version?.global).toBe('100');

    // The first frame already lists every live node, node 2 with no channel.
    expect(channelsByNode(first)).toEqual(
      new Map([
        ['1', ['dml_0@2', 'dml_1@2']],
        ['2', []],
      ]),
    );

    // Freeze node 1: both channels move to node 2 at term 3.
    const before = versionOf(w.latest()!);
    await f.h.balancer.updateBalancePolicy({ freezeNodeIds: [1n], updateMask: [] });
    await f.h.balancer.triggerBalance();
    const moved = await w.until((a) => channelsByNode(a).get('2')?.length === 2, 'channels moved to node 2');
    expect(channelsByNode(moved).get('2')).toEqual(['dml_0@3', 'dml_1@3']);
    expect(channelsByNode(moved).get('1')).toEqual([]);
    const after = versionOf(moved);
    expect(after.global).toBe(before.global);
    expect(after.local > before.local).toBe(true);
  });

  it('never sends the same version twice and only ever increasing versions', async () => {
    f = await startServices({ channelCount: 4, nodes: [1, 2] });
    const w = f.watch();
    await placed(f.h);
    for (let i = 0; i < 50; i++) {
      f.h.channels.triggerWatchUpdate();
      if (i % 7 === 0) await yieldToLoop();
    }
    const target = `100/${f.h.channels.version.local}`;
    await waitFor(() => w.latestVersion() === target, { timeoutMs: 5_000, message: `watcher reaches ${target}` });
    const locals = w.received.map((a) => versionOf(a).local);
    for (let i = 1; i < locals.length; i++) expect(locals[i]! > locals[i - 1]!).toBe(true);
  });

  it('ten concurrent watchers converge to the same latest version', async () => {
    f = await startServices({ channelCount: 8, nodes: [1, 2, 3] });
    const watchers = Array.from({ length: 10 }, () => f!.watch());
    await placed(f.h);
    f.h.registry.join(4);
    await f.h.balancer.triggerBalance();
    for (let i = 0; i < 20; i++) f.h.channels.triggerWatchUpdate();
    const target = `100/${f.h.channels.version.local}`;
    await waitFor(() => watchers.every((w) => w.latestVersion() === target), { timeoutMs: 5_000, message: 'all watchers converge' });
    const finals = watchers.map((w) => JSON.stringify(w.latest()));
    expect(new Set(finals).size).toBe(1);
    expect(f.services.discover.streams()).toHaveLength(10);
  });

  it('a watcher that never reads costs the server at most one pending snapshot', async () => {
    // Many registered nodes make each snapshot ~10 KB, so the 64 KiB HTTP/2 window fills fast.
    const many = Array.from({ length: 400 }, (_, i) => i + 1);
    f = await startServices({ channelCount: 4, nodes: many, noStart: true });
    const slow = f.watch({ read: false });
    await waitFor(() => f!.services.discover.streams().length === 1, { timeoutMs: 5_000, message: 'stream open' });
    const bumps = 2_000;
    for (let i = 0; i < bumps; i++) {
      f.h.channels.triggerWatchUpdate();
      if (i % 10 === 0) await yieldToLoop();
    }
    // The server is stuck on one write the client's flow control holds back.
    await waitFor(() => f!.services.discover.streams()[0]?.writer.inFlight === 1, { timeoutMs: 5_000, message: 'write blocked by flow control' });
    const stats = f.services.discover.streams()[0]!;
    expect(stats.writer.maxInFlight).toBe(1);
    expect(stats.writer.maxQueued).toBeLessThanOrEqual(1);
    expect(stats.sent).toBeLessThan(bumps / 10);

    // Once it reads, it gets the latest version.
    slow.startReading();
    const target = `100/${f.h.channels.version.local}`;
    await waitFor(() => slow.latestVersion() === target, { timeoutMs: 10_000, message: `slow watcher reaches ${target}` });
    expect(f.services.discover.streams()[0]!.writer.maxInFlight).toBe(1);
  });

  it('report_error at the current term reaches the balancer, which re-assigns the channel', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    await placed(f.h);
    const spy = vi.spyOn(f.h.balancer, 'reportError');
    const w = f.watch();
    await w.until((a) => channelsByNode(a).get('1')?.length === 2, 'assigned');
    w.reportError({ name: 'dml_1', term: 2n });
    await waitFor(() => spy.mock.calls.length === 1, { timeoutMs: 5_000, message: 'reportError called' });
    expect(spy.mock.calls[0]![0]).toMatchObject({ name: 'dml_1', term: 2n, accessMode: 'rw' });
    const reassigned = await w.until((a) => channelsByNode(a).get('1')?.includes('dml_1@3') ?? false, 'dml_1 at term 3');
    expect(channelsByNode(reassigned).get('1')).toEqual(['dml_0@2', 'dml_1@3']);
  });

  it('report_error for a stale term, an unknown channel or a malformed report is a no-op; the stream stays open', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    await placed(f.h);
    const w = f.watch();
    await w.until((a) => channelsByNode(a).get('1')?.length === 2, 'assigned');
    const spy = vi.spyOn(f.h.balancer, 'reportError');
    w.reportError({ name: 'dml_0', term: 1n }); // stale: the channel is at term 2
    w.reportError({ name: 'no-such-channel', term: 5n });
    w.call.write({ report_error: {} }); // no pchannel at all
    await waitFor(() => spy.mock.settledResults.length === 2, { timeoutMs: 5_000, message: 'both reports handled' });
    expect(spy.mock.settledResults.map((r) => r.type)).toEqual(['fulfilled', 'rejected']);
    expect(f.h.channels.getMeta('dml_0')?.channel.term).toBe(2n);

    // Still open and still streaming.
    f.h.channels.triggerWatchUpdate();
    const target = `100/${f.h.channels.version.local}`;
    await waitFor(() => w.latestVersion() === target, { timeoutMs: 5_000, message: 'stream still delivers' });
    expect(w.status).toBeUndefined();
    expect(channelsByNode(w.latest()!).get('1')).toEqual(['dml_0@2', 'dml_1@2']);
  });

  it('close handshake: close request → close response → status OK', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    const w = f.watch();
    await w.until(() => true, 'first snapshot');
    w.sendClose();
    const status = await w.settled();
    expect(status.code).toBe(0);
    expect(w.closeReceived).toBe(true);
    expect(w.error).toBeUndefined();
    await waitFor(() => f!.services.discover.streams().length === 0, { timeoutMs: 5_000, message: 'stream released' });
  });

  it('a client half-close ends the stream like close (Milvus EOF)', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    const w = f.watch();
    await w.until(() => true, 'first snapshot');
    w.call.end();
    const status = await w.settled();
    expect(status.code).toBe(0);
    expect(w.closeReceived).toBe(true);
  });

  it('a client cancel releases the stream', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    const w = f.watch();
    await w.until(() => true, 'first snapshot');
    expect(f.services.discover.streams()).toHaveLength(1);
    w.cancel();
    await waitFor(() => f!.services.discover.streams().length === 0, { timeoutMs: 5_000, message: 'stream released' });
  });

  it('server shutdown ends every stream with ON_SHUTDOWN and refuses new ones', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    const a = f.watch();
    const b = f.watch();
    await a.until(() => true, 'a first snapshot');
    await b.until(() => true, 'b first snapshot');
    await f.services.close();
    for (const w of [a, b]) {
      await w.settled();
      expect(w.error?.code).toBe(StreamingCode.ON_SHUTDOWN);
    }
    const late = f.watch();
    await late.settled();
    expect(late.error?.code).toBe(StreamingCode.ON_SHUTDOWN);
    expect(late.received).toHaveLength(0);
  });

  it('ends streams with ON_SHUTDOWN when the channel manager closes', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    const w = f.watch();
    await w.until(() => true, 'first snapshot');
    await f.h.balancer.close();
    f.h.channels.close();
    await w.settled();
    expect(w.error?.code).toBe(StreamingCode.ON_SHUTDOWN);
  });
});
