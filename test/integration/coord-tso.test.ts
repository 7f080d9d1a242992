/**
 * The coordinator TSO on real stores (a real etcd child process, and the embedded LevelMetaKV)
 * with the real clock: a second allocator, after the first was closed or just dropped
 * ("crashed"), hands out only larger timestamps; concurrent calls get distinct increasing
 * ranges across window renewals; a take-over stops the old allocator; and on etcd, a dead store
 * never lets a timestamp past the persisted bound, and allocation resumes after a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../shared/errors/index.js';
import { EtcdMetaKV, LevelMetaKV, type MetaKV } from '../../shared/meta/index.js';
import { parseTs } from '../../shared/tso/index.js';
import { waitFor } from '../../shared/util/index.js';
import { PersistedTsoAllocator, decodeTsoWindow, type PersistedTsoAllocatorOptions } from '../../coord/tso/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { uniqueName } from '../harness/unique.js';

let etcd: EtcdProcess | undefined;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.close();
});

interface OpenStore {
  readonly kv: MetaKV;
  close(): Promise<void>;
}

const STORES: { name: string; open: () => Promise<OpenStore> }[] = [
  {
    name: 'EtcdMetaKV',
    async open() {
      const kv = new EtcdMetaKV({ endpoints: [etcd!.endpoint], requestTimeoutMs: 1_000 });
      return { kv, close: () => kv.close() };
    },
  },
  {
    name: 'LevelMetaKV',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'coord-tso-'));
      const kv = await LevelMetaKV.open(dir);
      return {
        kv,
        async close() {
          await kv.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const physical = (ts: bigint): bigint => parseTs(ts).physicalMs;
/** Lets timers and I/O run between allocations that would otherwise all resolve as microtasks. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe.each(STORES)('coordinator TSO on $name', (factory) => {
  let store: OpenStore;
  let rootPath: string;
  const allocators: PersistedTsoAllocator[] = [];

  const allocator = (options: Partial<PersistedTsoAllocatorOptions> = {}): PersistedTsoAllocator => {
    const tso = new PersistedTsoAllocator({ kv: store.kv, rootPath, retryBackoff: { initialMs: 5, maxMs: 100 }, ...options });
    allocators.push(tso);
    return tso;
  };

  beforeAll(async () => {
    store = await factory.open();
  });
  afterAll(async () => {
    await store.close();
  });
  afterEach(async () => {
    await Promise.allSettled(allocators.splice(0).map((a) => a.close()));
    await store.kv.deletePrefix(`${rootPath}/`).catch(() => undefined);
  });
  const fresh = (): void => {
    rootPath = `t/${uniqueName('tso')}/meta`;
  };

  /** Allocates `rounds` batches of various sizes; returns [first, last] of every batch. */
  async function drain(tso: PersistedTsoAllocator, rounds: number): Promise<[bigint, bigint][]> {
    const out: [bigint, bigint][] = [];
    for (let i = 0; i < rounds; i++) {
      const count = 1 + ((i * 37) % 300);
      const first = await tso.allocate(count);
      out.push([first, first + BigInt(count) - 1n]);
      if (i % 50 === 0) await yieldToLoop();
    }
    return out;
  }

  for (const ending of ['closed', 'crashed'] as const) {
    it(`a second allocator after the first ${ending} hands out only larger timestamps`, async () => {
      fresh();
      const first = allocator();
      await first.start();
      const before = await drain(first, 500);
      const firstEnd = first.windowEndMs!;
      if (ending === 'closed') await first.close();
      else allocators.splice(allocators.indexOf(first), 1); // dropped on the floor, never closed
      const second = allocator();
      await second.start();
      const after = await drain(second, 500);
      const maxBefore = before[before.length - 1]![1];
      expect(after[0]![0]).toBeGreaterThan(maxBefore);
      expect(physical(after[0]![0])).toBeGreaterThanOrEqual(firstEnd);
    });
  }

  it('concurrent calls get distinct ranges, increasing in call order, across window renewals', async () => {
    fresh();
    const tso = allocator({ windowMs: 40, renewBeforeMs: 20 });
    await tso.start();
    const starts: bigint[] = [];
    const counts: number[] = [];
    const startEnd = tso.windowEndMs!;
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 50 }, (_, i) => 1 + ((round * 50 + i) % 700));
      counts.push(...batch);
      starts.push(...(await Promise.all(batch.map((c) => tso.allocate(c)))));
      // Let the clock pass the window, so the next round's first call must wait for a renewal
      // and the rest of the round queues behind it.
      const end = tso.windowEndMs!;
      await waitFor(() => BigInt(Date.now()) >= end, { intervalMs: 5, message: 'the clock past the window' });
    }
    for (let i = 1; i < starts.length; i++) {
      expect(starts[i]!, `call ${i}`).toBeGreaterThan(starts[i - 1]! + BigInt(counts[i - 1]!) - 1n);
    }
    expect(tso.windowEndMs!).toBeGreaterThan(startEnd); // the window was renewed along the way
  });

  it('an allocator whose window another one took over stops with UNRECOVERABLE; its timestamps stay below', async () => {
    fresh();
    const old = allocator({ windowMs: 200, renewBeforeMs: 100 });
    await old.start();
    const fromOld: bigint[] = [await old.allocate()];
    const next = allocator({ windowMs: 200, renewBeforeMs: 100 });
    await next.start();
    const fromNext = await next.allocate();
    let stopped: unknown;
    await waitFor(
      async () => {
        try {
          fromOld.push(await old.allocate());
          return false;
        } catch (e) {
          stopped = e;
          return true;
        }
      },
      { timeoutMs: 10_000, intervalMs: 5, message: 'the old allocator to notice the take-over' },
    );
    expect(stopped).toBeInstanceOf(StreamingError);
    expect((stopped as StreamingError).code).toBe(StreamingCode.UNRECOVERABLE);
    expect(fromOld.every((ts) => ts < fromNext)).toBe(true);
    expect(await old.closed()).toBe(stopped);
    expect(await next.allocate()).toBeGreaterThan(fromNext);
  });

  if (factory.name === 'EtcdMetaKV') {
    it('with etcd down, no timestamp passes the persisted bound; allocation fails with INNER, then resumes after restart', async () => {
      fresh();
      const tso = allocator({ windowMs: 300, renewBeforeMs: 100, waitTimeoutMs: 1_000 });
      await tso.start();
      const handed = await drain(tso, 10);
      await etcd!.kill('SIGKILL');
      let failure: unknown;
      while (failure === undefined) {
        try {
          handed.push([await tso.allocate(), 0n]);
          await yieldToLoop();
        } catch (e) {
          failure = e;
        }
      }
      expect(failure).toBeInstanceOf(StreamingError);
      expect((failure as StreamingError).code).toBe(StreamingCode.INNER);
      // The confirmed (persisted) window only grows, so every timestamp is below its end now.
      const bound = tso.windowEndMs!;
      expect(handed.every(([ts]) => physical(ts) < bound)).toBe(true);
      await etcd!.restart();
      // The store itself holds a bound at least as high as every timestamp handed out.
      const stored = await waitFor(() => store.kv.get(tso.key), { timeoutMs: 15_000, message: 'etcd back' });
      expect(decodeTsoWindow(tso.key, stored.value).endMs).toBeGreaterThanOrEqual(bound);
      const resumed = await waitFor(() => tso.allocate(), { timeoutMs: 15_000, message: 'allocation after the restart' });
      expect(resumed).toBeGreaterThan(handed[handed.length - 1]![0]);
      const persisted = await waitFor(() => store.kv.get(tso.key), { timeoutMs: 5_000 });
      expect(physical(resumed)).toBeLessThan(decodeTsoWindow(tso.key, persisted.value).endMs);
    });
  }
});
