import { afterEach, describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { deliverAll, deliverStartFrom, type DeliverPolicy, type ImmutableMessage, MessageType, pchannelInfo } from '../../../../../shared/message/index.js';
import type { BackendScanner, WalBackend } from '../../../../../node/wal/backend/index.js';
import { createWalScanner, type WalScannerAdaptor } from '../../../../../node/wal/scanner/index.js';
import type { ScannerSource } from '../../../../../node/wal/scanner/index.js';
import type { WalReadOptions } from '../../../../../node/wal/wal.js';
import { waitFor } from '../../../../../shared/util/index.js';
import { isSettled } from '../utility/fixtures.js';
import { CollectingReader, expectedFor, type FakeWalEnv, openFakeWal, vchannelsOf } from './scanner-fixtures.js';

let env: FakeWalEnv | undefined;
const scanners: WalScannerAdaptor[] = [];
const FAST_BACKOFF = { initialMs: 1, maxMs: 4, multiplier: 2, jitter: 0 };

async function setup(): Promise<FakeWalEnv> {
  env = await openFakeWal();
  return env;
}

function open(source: ScannerSource, options: Partial<WalReadOptions> = {}): WalScannerAdaptor {
  const scanner = createWalScanner(source, { deliverPolicy: deliverAll(), ...options }, { backoff: FAST_BACKOFF });
  scanners.push(scanner);
  return scanner;
}

async function writeSome(e: FakeWalEnv, count: number): Promise<ImmutableMessage[]> {
  const [v0] = vchannelsOf(e.pchannel, 1) as [string];
  const out: ImmutableMessage[] = [];
  for (let i = 0; i < count; i++) {
    out.push(await e.writer.insert(v0, `m${i}`));
    if (i % 4 === 3) await e.writer.tick();
  }
  await e.writer.tick({ persisted: true });
  return out;
}

/**
 * A backend whose opens and scans fail with INNER as planned, recording the policies asked for.
 * `chunked` scanners also hand out their read-ahead in chunks (cut at the failure point, the rest
 * of the read-ahead lost with the failed scanner), else every message goes through next().
 */
function flaky(
  backend: WalBackend,
  plan: { openFailures: number; failScansAfter: number[]; chunked?: boolean },
): { backend: WalBackend; policies: DeliverPolicy[]; opened: BackendScanner[] } {
  const policies: DeliverPolicy[] = [];
  const opened: BackendScanner[] = [];
  let opens = 0;
  let scans = 0;
  const wrapped: WalBackend = {
    channel: backend.channel,
    walName: backend.walName,
    append: (m) => backend.append(m),
    read: (options) => {
      policies.push(options.deliverPolicy);
      if (opens++ < plan.openFailures) throw StreamingError.inner('open hiccup');
      const inner = backend.read(options);
      opened.push(inner);
      const failAfter = plan.failScansAfter[scans++];
      return failAfter === undefined ? inner : failingAfter(inner, failAfter, plan.chunked === true);
    },
    truncate: (id) => backend.truncate(id),
    earliestMessageId: () => backend.earliestMessageId(),
    latestMessageId: () => backend.latestMessageId(),
    loadCheckpoint: () => backend.loadCheckpoint(),
    saveCheckpoint: (bytes) => backend.saveCheckpoint(bytes),
    close: () => backend.close(),
    closed: () => backend.closed(),
  };
  return { backend: wrapped, policies, opened };
}

function failingAfter(inner: BackendScanner, count: number, chunked: boolean): BackendScanner {
  const iterator = inner[Symbol.asyncIterator]();
  let delivered = 0;
  return {
    name: inner.name,
    get bufferedCount() {
      return inner.bufferedCount;
    },
    close: () => inner.close(),
    closed: () => inner.closed(),
    takeBuffered: () => {
      // Unchunked: counts every message, so it never hands over a chunk and the scanner falls
      // back to next().
      if (!chunked || delivered >= count) return undefined;
      const chunk = inner.takeBuffered()?.slice(0, count - delivered);
      delivered += chunk?.length ?? 0;
      return chunk;
    },
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        if (delivered++ >= count) throw StreamingError.inner('read hiccup');
        return iterator.next();
      },
    }),
  };
}

afterEach(async () => {
  await Promise.all(scanners.splice(0).map((s) => s.close()));
  await env?.close();
  env = undefined;
});

describe('WAL scanner: ending', () => {
  it('close during a pending next returns done; close is idempotent and closed() resolves undefined', async () => {
    const e = await setup();
    const scanner = open(e.source());
    const iterator = scanner[Symbol.asyncIterator]();
    // The open barrier and the requested persisted tick arrive; then nothing more.
    await waitFor(() => e.writer.ticks.length === 2);
    for (let m = await iterator.next(); m.value?.timeTick !== e.writer.lastTick.timeTick; m = await iterator.next()) {
      expect(m.value?.messageType).toBe(MessageType.TimeTick);
    }
    const pending = iterator.next();
    expect(await isSettled(pending)).toBe(false);
    const closing = scanner.close();
    expect(scanner.close()).toBe(closing);
    expect(await pending).toEqual({ value: undefined, done: true });
    await closing;
    expect(await scanner.closed()).toBeUndefined();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('close while the pump waits on a full queue with a chunk in hand: done, nothing more, backend scanner released', async () => {
    const e = await setup();
    await writeSome(e, 200);
    const { backend, opened } = flaky(e.backend, { openFailures: 0, failScansAfter: [] });
    const scanner = createWalScanner(
      e.source({ backend, readOnly: true }),
      { deliverPolicy: deliverAll() },
      { backoff: FAST_BACKOFF, pendingThreshold: 2, readAheadBufferSize: 64 },
    );
    scanners.push(scanner);
    const iterator = scanner[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await waitFor(() => scanner.stats.pending === 2);
    expect(scanner.stats.backendBuffered).toBeLessThanOrEqual(64);
    await scanner.close();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(await scanner.closed()).toBeUndefined();
    expect(opened).toHaveLength(1);
    // Ended (by the scanner's abort signal, hence ON_SHUTDOWN) before close() resolved.
    expect(await isSettled((opened[0] as BackendScanner).closed())).toBe(true);
    expect((opened[0] as BackendScanner).bufferedCount).toBe(0);
  });

  it('leaving a for-await closes the scanner', async () => {
    const e = await setup();
    await writeSome(e, 8);
    const scanner = open(e.source());
    let seen = 0;
    for await (const m of scanner) if (m.messageType !== MessageType.TimeTick && ++seen === 3) break;
    expect(await scanner.closed()).toBeUndefined();
  });

  it('reading a truncated position ends with UNRECOVERABLE naming the earliest id', async () => {
    const e = await setup();
    const written = await writeSome(e, 20);
    await e.backend.truncate((written[9] as ImmutableMessage).messageId);
    const earliest = e.backend.earliestMessageId();
    const scanner = open(e.source(), { deliverPolicy: deliverStartFrom((written[2] as ImmutableMessage).messageId) });
    const reader = new CollectingReader(scanner);
    await reader.done;
    expect(reader.error).toMatchObject({ code: StreamingCode.UNRECOVERABLE });
    expect((reader.error as Error).message).toContain(`earliest available message id is ${earliest?.toString()}`);
    expect(await scanner.closed()).toBe(reader.error);
  });

  it('a fenced backend ends the scanner with CHANNEL_FENCED', async () => {
    const e = await setup();
    await writeSome(e, 5);
    const scanner = open(e.source({ readOnly: true }));
    const reader = new CollectingReader(scanner);
    await reader.untilData(5);
    await e.opener.open(pchannelInfo(e.pchannel, 2n));
    await reader.done;
    expect(reader.error).toMatchObject({ code: StreamingCode.CHANNEL_FENCED });
    expect(await scanner.closed()).toMatchObject({ code: StreamingCode.CHANNEL_FENCED });
  });

  it('a closed backend ends the scanner with ON_SHUTDOWN', async () => {
    const e = await setup();
    const scanner = open(e.source({ readOnly: true }));
    const reader = new CollectingReader(scanner);
    await e.backend.close();
    await reader.done;
    expect(reader.error).toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
  });

  it('a write-ahead buffer closed under a tailing scanner ends it with the close reason', async () => {
    const e = await setup();
    const scanner = open(e.source());
    const reader = new CollectingReader(scanner);
    await reader.untilTick(0n);
    expect(scanner.mode).toBe('tailing');
    const fenced = StreamingError.channelFenced(e.pchannel);
    e.wab.close(fenced);
    await reader.done;
    expect(reader.error).toBe(fenced);
    expect(await scanner.closed()).toBe(fenced);
  });

  it('the signal of the options ends the scanner with its reason', async () => {
    const e = await setup();
    const controller = new AbortController();
    const scanner = open(e.source(), { signal: controller.signal });
    const reader = new CollectingReader(scanner);
    const reason = StreamingError.onShutdown('consumer went away');
    controller.abort(reason);
    await reader.done;
    expect(reader.error).toBe(reason);
    expect(await scanner.closed()).toBe(reason);
  });

  it('refuses invalid filters up front', async () => {
    const e = await setup();
    expect(() => open(e.source(), { filters: [{ kind: 'messageType', types: [MessageType.CommitTxn] }] })).toThrow(
      expect.objectContaining({ code: StreamingCode.INVAILD_ARGUMENT }),
    );
  });
});

describe('WAL scanner: backend failures', () => {
  it('retries INNER open and read failures with backoff, resuming after the last message read', async () => {
    const e = await setup();
    const written = await writeSome(e, 12);
    const { backend, policies } = flaky(e.backend, { openFailures: 2, failScansAfter: [3, 5] });
    const scanner = open(e.source({ backend, readOnly: true }));
    const reader = new CollectingReader(scanner);
    await reader.untilTick(e.writer.lastTick.timeTick);
    expect(reader.data()).toEqual(expectedFor(e.writer.records));
    expect(reader.data()).toHaveLength(written.length);
    // Two failed opens at the start policy, then each reopen right after the last message read.
    expect(policies.slice(0, 3).map((p) => p.kind)).toEqual(['all', 'all', 'all']);
    expect(policies.slice(3).map((p) => p.kind)).toEqual(['startAfter', 'startAfter']);
  });

  it('resumes after the last message of a chunk when a scanner fails after handing out chunks', async () => {
    const e = await setup();
    const written = await writeSome(e, 40);
    const { backend, policies } = flaky(e.backend, { openFailures: 0, failScansAfter: [7, 13, 1], chunked: true });
    const scanner = open(e.source({ backend, readOnly: true }));
    const reader = new CollectingReader(scanner);
    await reader.untilTick(e.writer.lastTick.timeTick);
    expect(reader.data()).toEqual(expectedFor(e.writer.records));
    expect(reader.data()).toHaveLength(written.length);
    expect(policies.map((p) => p.kind)).toEqual(['all', 'startAfter', 'startAfter', 'startAfter']);
  });

  it('a failing persisted-tick request does not end the scanner', async () => {
    const e = await setup();
    const source: ScannerSource = {
      ...e.source(),
      requestPersistedTimeTick: () => {
        throw new Error('operator gone');
      },
    };
    const scanner = open(source);
    const written = await writeSome(e, 4);
    const reader = new CollectingReader(scanner);
    await reader.untilData(written.length);
    expect(reader.error).toBeUndefined();
  });
});
