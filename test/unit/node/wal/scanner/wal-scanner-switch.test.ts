import { afterEach, describe, expect, it } from 'vitest';
import { deliverAll, MessageType } from '../../../../../shared/message/index.js';
import { waitFor } from '../../../../../shared/util/index.js';
import { createWalScanner, type ScannerMode, type WalScannerAdaptor, type WalScannerTuning } from '../../../../../node/wal/scanner/index.js';
import type { WalReadOptions } from '../../../../../node/wal/wal.js';
import { insertMessage } from './fake-wal-writer.js';
import {
  CollectingReader,
  expectedFor,
  expectTimeTickOrder,
  type FakeWalEnv,
  type FakeWalOptions,
  openFakeWal,
  type SourceOptions,
  vchannelsOf,
} from './scanner-fixtures.js';

let env: FakeWalEnv | undefined;
const scanners: WalScannerAdaptor[] = [];

async function setup(options: FakeWalOptions): Promise<FakeWalEnv> {
  env = await openFakeWal(options);
  return env;
}

function open(
  e: FakeWalEnv,
  options: Partial<WalReadOptions> & { source?: SourceOptions; tuning?: WalScannerTuning; paused?: boolean } = {},
): { scanner: WalScannerAdaptor; reader: CollectingReader } {
  const scanner = createWalScanner(e.source(options.source), { deliverPolicy: deliverAll(), ...options }, options.tuning);
  scanners.push(scanner);
  return { scanner, reader: new CollectingReader(scanner, { paused: options.paused === true }) };
}

/** `count` inserts on `vchannel` in batches of `batch`, each batch appended concurrently then ticked. */
async function appendBatches(e: FakeWalEnv, vchannel: string, count: number, batch: number, onBatch?: () => void): Promise<void> {
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    await Promise.all(Array.from({ length: n }, (_, i) => e.writer.insert(vchannel, `m${done + i}`)));
    await e.writer.tick();
    onBatch?.();
  }
}

afterEach(async () => {
  await Promise.all(scanners.splice(0).map((s) => s.close()));
  await env?.close();
  env = undefined;
});

describe('WAL scanner: catch-up ↔ tailing', () => {
  it('a reader started after 1000 messages catches up from the backend, switches to tailing and tails new ones', async () => {
    const e = await setup({ wabCapacityBytes: 16 * 1024 });
    const [v0] = vchannelsOf(e.pchannel, 1) as [string];
    await appendBatches(e, v0, 1000, 50);
    // The buffer kept only the tail: the start can only come from the backend.
    expect(e.wab.earliestTimeTick).toBeGreaterThan(e.writer.records[0]?.timeTick ?? 0n);

    const modes: ScannerMode[] = [];
    const { scanner, reader } = open(e, { tuning: { onModeChange: (m) => modes.push(m) } });
    expect(scanner.mode).toBe('catchup');
    expect(e.tickRequests()).toBe(1);
    await reader.untilData(1000);
    await waitFor(() => scanner.mode === 'tailing', { message: 'switched to tailing' });
    expect(modes[0]).toBe('tailing');

    await appendBatches(e, v0, 10, 5);
    await reader.untilTick(e.writer.lastTick.timeTick);
    expect(scanner.mode).toBe('tailing');
    expect(scanner.stats.switchesToCatchup).toBe(0);
    expectTimeTickOrder(reader.items);
    expect(reader.data()).toEqual(expectedFor(e.writer.records));
    expect(reader.data()).toHaveLength(1010);
  });

  it('a stalled reader falls back to catch-up after eviction and still sees every message once, in order', async () => {
    const e = await setup({ wabCapacityBytes: 4 * 1024 });
    const [v0, v1] = vchannelsOf(e.pchannel, 2) as [string, string];
    const w = e.writer;
    const modes: ScannerMode[] = [];
    const readers = [undefined, v0].map((vchannel) => open(e, { vchannel, tuning: { onModeChange: (m) => modes.push(m) } }));
    await appendBatches(e, v0, 20, 5);
    for (const { scanner, reader } of readers) {
      await reader.untilTick(w.lastTick.timeTick);
      expect(scanner.mode).toBe('tailing');
      reader.pause();
    }
    // A transaction spans the stall, and appends race their ticks.
    const txn = await w.begin(v0);
    for (let i = 0; i < 300; i++) {
      const a = w.stamp(insertMessage(i % 2 === 0 ? v0 : v1, `a${i}`));
      const b = w.stamp(insertMessage(v0, `b${i}`, i % 50 === 0 ? txn : undefined));
      const ticked = w.tick();
      await w.write(b);
      await w.write(a);
      await ticked;
      if (i % 7 === 0) await w.tick();
    }
    await w.commit(txn, v0);
    await w.tick();
    for (const { reader } of readers) reader.resume();
    await appendBatches(e, v1, 10, 5);
    for (const [index, { scanner, reader }] of readers.entries()) {
      await reader.untilTick(w.lastTick.timeTick);
      expectTimeTickOrder(reader.items);
      expect(reader.data()).toEqual(expectedFor(w.records, { vchannel: index === 0 ? undefined : v0 }));
      expect(scanner.stats.switchesToCatchup).toBeGreaterThanOrEqual(1);
      expect(scanner.stats.violationsDropped).toBe(0);
      expect(scanner.stats.switchesToTailing).toBeGreaterThanOrEqual(2);
    }
    expect(modes).toContain('catchup');
    expect(readers[0]?.reader.data().filter((d) => d.startsWith('txn:'))).toHaveLength(1);
  });

  it('a read-only source never switches: it tails the backend', async () => {
    const e = await setup({});
    const [v0] = vchannelsOf(e.pchannel, 1) as [string];
    const { scanner, reader } = open(e, { source: { readOnly: true } });
    await appendBatches(e, v0, 30, 10);
    await reader.untilTick(e.writer.lastTick.timeTick);
    expect(e.tickRequests()).toBe(0);
    expect(scanner.mode).toBe('catchup');
    expect(scanner.stats.switchesToTailing).toBe(0);
    expect(reader.data()).toEqual(expectedFor(e.writer.records));
  });
});

describe('WAL scanner: bounded memory', () => {
  it('holds at most the pending queue, the read-ahead and one tick interval while a slow reader lags 10 000 messages', async () => {
    const e = await setup({ wabCapacityBytes: 64 * 1024 });
    const [v0] = vchannelsOf(e.pchannel, 1) as [string];
    const tuning: WalScannerTuning = { readAheadBufferSize: 32, pendingThreshold: 16 };
    const lagging = [open(e, { tuning, paused: true }), open(e, { tuning, paused: true, source: { readOnly: true } })];
    const max = { pending: 0, backend: 0, reorder: 0, wab: 0 };
    const sample = (): void => {
      for (const { scanner } of lagging) {
        const s = scanner.stats;
        max.pending = Math.max(max.pending, s.pending);
        max.backend = Math.max(max.backend, s.backendBuffered);
        max.reorder = Math.max(max.reorder, s.reorderBuffered);
      }
      max.wab = Math.max(max.wab, e.wab.bytes);
    };
    for (const { reader } of lagging) reader.grant(5);
    await appendBatches(e, v0, 10_000, 100, sample);
    expect(max.pending).toBeLessThanOrEqual(16);
    expect(max.backend).toBeLessThanOrEqual(32);
    expect(max.reorder).toBeLessThanOrEqual(100);
    expect(max.wab).toBeLessThanOrEqual(64 * 1024 + 1024);

    const last = e.writer.lastTick.timeTick;
    for (const { reader } of lagging) reader.resume();
    await waitFor(
      () => {
        sample();
        return lagging.every(({ reader }) => reader.ended || reader.items.some((m) => m.timeTick >= last && m.messageType === MessageType.TimeTick));
      },
      { timeoutMs: 20_000, intervalMs: 1 },
    );
    expect(max.pending).toBeLessThanOrEqual(16);
    expect(max.backend).toBeLessThanOrEqual(32);
    const expected = expectedFor(e.writer.records);
    for (const { reader } of lagging) {
      expect(reader.error).toBeUndefined();
      expectTimeTickOrder(reader.items);
      expect(reader.data()).toEqual(expected);
    }
  }, 60_000);
});
