/**
 * RemoteTsoAllocator against a real gRPC TsoService on loopback: batching, prefetch, order,
 * waiting out an unreachable coordinator (never a local fallback), following a moving
 * coordinator, sync/freshness, and cancellation by close() or the caller's signal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteTsoAllocator } from '../../node/tso/index.js';
import { LocalTsoAllocator, StreamingCode, StreamingError, composeTs, waitFor } from '../../shared/index.js';
import { FakeTsoServer } from './node-tso-server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tsoServer(allocator?: LocalTsoAllocator): Promise<FakeTsoServer> {
  const server = new FakeTsoServer(allocator);
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

function client(options: ConstructorParameters<typeof RemoteTsoAllocator>[0]): RemoteTsoAllocator {
  const tso = new RemoteTsoAllocator({ backoff: { initialMs: 20, maxMs: 100 }, ...options });
  cleanups.push(() => tso.close());
  return tso;
}

function expectStrictlyIncreasing(values: readonly bigint[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]! > values[i - 1]!, `#${i}: ${values[i]} > ${values[i - 1]}`).toBe(true);
}

describe('RemoteTsoAllocator', () => {
  it('serves 100 concurrent allocate(1) calls with a few RPCs, strictly increasing in call order', async () => {
    const server = await tsoServer();
    const tso = client({ target: server.address });
    const results = await Promise.all(Array.from({ length: 100 }, () => tso.allocate(1)));
    expectStrictlyIncreasing(results);
    expect(tso.rpcCount).toBeLessThanOrEqual(2);
    expect(server.requests[0]).toBe(1_000);
  });

  it('prefetches the next window before the current one runs out, and serves counts larger than a window', async () => {
    const server = await tsoServer();
    const tso = client({ target: server.address, windowSize: 10, refillBelow: 5, windowTtlMs: 60_000 });
    const results: bigint[] = [];
    for (let i = 0; i < 50; i++) results.push(await tso.allocate(1));
    expectStrictlyIncreasing(results);
    expect(tso.rpcCount).toBeLessThanOrEqual(7);
    const big = await tso.allocate(5_000);
    expect(big > results.at(-1)!).toBe(true);
    expect((await tso.allocate(1)) >= big + 5_000n).toBe(true);
    expect(server.requests).toContain(5_000);
  });

  it('tryAllocate takes prefetched timestamps without waiting, never ahead of queued callers, in one order with allocate', async () => {
    const server = await tsoServer();
    const tso = client({ target: server.address, windowSize: 100, refillBelow: 10, windowTtlMs: 60_000 });
    // Nothing prefetched yet: no timestamp, but the fetch starts.
    expect(tso.tryAllocate(1)).toBeUndefined();
    const results: bigint[] = [await waitFor(() => tso.tryAllocate(1), { timeoutMs: 10_000, message: 'a prefetched timestamp' })];
    results.push(await tso.allocate(1));
    for (let i = 0; i < 300; i++) {
      const ts = tso.tryAllocate(1) ?? (await tso.allocate(1));
      results.push(ts);
    }
    expectStrictlyIncreasing(results);
    // A queued caller goes first: while it waits, tryAllocate refuses.
    server.stop();
    tso.sync();
    const queued = tso.allocate(1);
    expect(tso.waiting).toBe(1);
    expect(tso.tryAllocate(1)).toBeUndefined();
    await server.start();
    const after = await queued;
    expect(after > results.at(-1)!).toBe(true);
    expect(() => tso.tryAllocate(0)).toThrow(StreamingError);
    await tso.close();
    let closed: unknown;
    try {
      tso.tryAllocate(1);
    } catch (error) {
      closed = error;
    }
    expect((closed as StreamingError).code).toBe(StreamingCode.ON_SHUTDOWN);
  });

  it('makes callers wait while the coordinator is down and serves them once it is back', async () => {
    const server = await tsoServer();
    const tso = client({ target: server.address, windowTtlMs: 60_000 });
    const before = await tso.allocate(1);
    server.stop();
    tso.sync(); // forget the prefetched window: the next calls need the coordinator
    const rpcsBefore = tso.rpcCount;
    let settled = 0;
    const pending = Array.from({ length: 5 }, () => tso.allocate(1).finally(() => settled++));
    await waitFor(() => tso.rpcCount >= rpcsBefore + 3, { timeoutMs: 10_000 });
    expect(settled).toBe(0);
    expect(tso.waiting).toBe(5);
    await server.start(); // same port, same allocator: a coordinator restart
    const after = await Promise.all(pending);
    expectStrictlyIncreasing([before, ...after]);
  });

  it('follows the coordinator address: waits while unknown, moves when it changes', async () => {
    const first = await tsoServer();
    // The second coordinator's TSO is ahead (as after a failover with a persisted upper bound).
    const second = await tsoServer(new LocalTsoAllocator({ after: composeTs(BigInt(Date.now()) + 60_000n, 0) }));
    let target: string | undefined;
    const tso = client({ target: () => target, windowTtlMs: 0 });
    const waiting = tso.allocate(1);
    await waitFor(() => tso.fetchAttempts >= 2);
    expect(tso.rpcCount).toBe(0);
    target = first.address;
    const a = await waiting;
    target = second.address;
    tso.sync();
    const b = await tso.allocate(1);
    expect(b > a).toBe(true);
    expect(first.requests.length).toBeGreaterThan(0);
    expect(second.requests.length).toBeGreaterThan(0);
  });

  it('fetches afresh after sync() and once a window is older than its TTL', async () => {
    const server = await tsoServer();
    let now = 1_000;
    const tso = client({ target: server.address, windowTtlMs: 50, now: () => now });
    await tso.allocate(1);
    expect(tso.rpcCount).toBe(1);
    await tso.allocate(1);
    expect(tso.rpcCount).toBe(1);
    tso.sync();
    await tso.allocate(1);
    expect(tso.rpcCount).toBe(2);
    tso.syncIfExpired(10); // 0 ms old: kept
    await tso.allocate(1);
    expect(tso.rpcCount).toBe(2);
    now += 51;
    await tso.allocate(1);
    expect(tso.rpcCount).toBe(3);
  });

  it('rejects waiting callers with ON_SHUTDOWN on close, and only its own caller on abort', async () => {
    const tso = client({ target: () => undefined });
    const abort = new AbortController();
    const aborted = tso.allocate(1, { signal: abort.signal });
    const waiting = tso.allocate(1);
    abort.abort(StreamingError.onShutdown('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(tso.waiting).toBe(1);
    await tso.close();
    await expect(waiting).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    await expect(tso.allocate(1)).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
  });

  it('rejects a count outside [1, 2^18]', async () => {
    const tso = client({ target: '127.0.0.1:1' });
    for (const count of [0, -1, 1.5, 2 ** 18 + 1]) {
      await expect(tso.allocate(count)).rejects.toMatchObject({ code: StreamingCode.INVAILD_ARGUMENT });
    }
  });
});
