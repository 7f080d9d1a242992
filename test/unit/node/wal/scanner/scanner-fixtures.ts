/**
 * Scanner test harness: a memory WAL backend + write-ahead buffer + fake writer, scanner
 * sources over them, a background reader that can be stalled, and the expected output model.
 */
import { expect } from 'vitest';
import { type ImmutableMessage, MessageId, MessageType, pchannelInfo, pchannelName, vchannelName } from '../../../../../shared/message/index.js';
import { waitFor } from '../../../../../shared/util/index.js';
import { MemoryWalBackendOpener, type WalBackend } from '../../../../../node/wal/backend/index.js';
import { isImmutableTxnMessage, type ScannedMessage, WriteAheadBuffer } from '../../../../../node/wal/utility/index.js';
import type { ScannerSource } from '../../../../../node/wal/scanner/index.js';
import { uniqueName } from '../../../../harness/unique.js';
import { FakeTso, FakeWalWriter } from './fake-wal-writer.js';

export const PCHANNEL_BASE = 'by-dev-rootcoord-dml';

/** The vchannels of a test pchannel. */
export function vchannelsOf(pchannel: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => vchannelName(pchannel, 100 + i, 0));
}

/** Options of {@link openFakeWal}. */
export interface FakeWalOptions {
  readonly wabCapacityBytes?: number;
  readonly wabKeepaliveMs?: number;
}

/** Options of {@link FakeWalEnv.source}. */
export interface SourceOptions {
  /** No write-ahead buffer: the scanner reads the backend only. */
  readonly readOnly?: boolean;
  /** Answer `requestPersistedTimeTick()` with a persisted tick (default true). */
  readonly answerRequests?: boolean;
  /** Read from this backend instead (e.g. a read-only open, or a failing wrapper). */
  readonly backend?: WalBackend;
}

/** A WAL write side under test. */
export interface FakeWalEnv {
  readonly pchannel: string;
  readonly opener: MemoryWalBackendOpener;
  readonly backend: WalBackend;
  readonly wab: WriteAheadBuffer;
  readonly writer: FakeWalWriter;
  /** How often scanners asked for a persisted tick. */
  readonly tickRequests: () => number;
  source(options?: SourceOptions): ScannerSource;
  close(): Promise<void>;
}

/** Opens a fresh pchannel at term 1 with its open barrier tick written. */
export async function openFakeWal(options: FakeWalOptions = {}): Promise<FakeWalEnv> {
  const pchannel = pchannelName(uniqueName('scan').replace(/-/g, ''), 0);
  const opener = new MemoryWalBackendOpener();
  const backend = await opener.open(pchannelInfo(pchannel, 1n));
  const tso = new FakeTso();
  const first = await FakeWalWriter.appendFirstTick(backend, tso);
  const wab = new WriteAheadBuffer({
    capacityBytes: options.wabCapacityBytes ?? 64 * 1024 * 1024,
    keepaliveMs: options.wabKeepaliveMs ?? 3_600_000,
    firstTimeTickMessage: first,
  });
  const writer = new FakeWalWriter(backend, wab, first, tso);
  let requests = 0;
  return {
    pchannel,
    opener,
    backend,
    wab,
    writer,
    tickRequests: () => requests,
    source: (o = {}) => ({
      backend: o.backend ?? backend,
      writeAheadBuffer: o.readOnly === true ? undefined : wab,
      requestPersistedTimeTick: () => {
        requests++;
        // The operator answers soon, not synchronously; a closed backend just means no answer.
        if (o.answerRequests !== false) void writer.tick({ persisted: true }).catch(() => undefined);
      },
    }),
    close: async () => {
      wab.close();
      await opener.close();
    },
  };
}

/** Stable text for a delivered message: `msg:<id>`, `txn:<commit id>(<body ids>)`, `tick:<tt>`. */
export function describeScanned(m: ScannedMessage): string {
  if (isImmutableTxnMessage(m)) return `txn:${m.messageId}(${m.bodies.map((b) => b.messageId.toString()).join(',')})`;
  if (m.messageType === MessageType.TimeTick) return `tick:${m.timeTick}`;
  return `msg:${m.messageId}`;
}

/** The data messages (no ticks) as {@link describeScanned} text. */
export function dataOf(items: readonly ScannedMessage[]): string[] {
  return items.filter((m) => m.messageType !== MessageType.TimeTick).map(describeScanned);
}

/** Asserts data ticks strictly increase and TimeTick ticks never decrease. */
export function expectTimeTickOrder(items: readonly ScannedMessage[]): void {
  let last = -1n;
  for (const m of items) {
    if (m.messageType === MessageType.TimeTick) expect(m.timeTick, describeScanned(m)).toBeGreaterThanOrEqual(last);
    else expect(m.timeTick, describeScanned(m)).toBeGreaterThan(last);
    last = m.timeTick;
  }
}

/** Options of {@link expectedFor}. */
export interface ExpectedOptions {
  /** Reader's vchannel; undefined = all. */
  readonly vchannel?: string;
  /** First id the reader reads (inclusive). */
  readonly from?: MessageId;
}

/**
 * What a reader must deliver from `records` (every written data / txn message): per vchannel,
 * non-txn messages and committed transactions (begun at or after `from`) in time tick order.
 */
export function expectedFor(records: readonly ImmutableMessage[], options: ExpectedOptions = {}): string[] {
  const from = options.from ?? MessageId.of(0);
  const visible = (m: ImmutableMessage): boolean => m.vchannel === undefined || options.vchannel === undefined || m.vchannel === options.vchannel;
  const open = new Map<bigint, string[]>();
  const out: string[] = [];
  for (const m of [...records].sort((a, b) => (a.timeTick < b.timeTick ? -1 : 1))) {
    const txn = m.txnContext;
    if (txn === undefined) {
      if (visible(m) && !m.messageId.lt(from)) out.push(`msg:${m.messageId}`);
      continue;
    }
    if (m.messageType === MessageType.BeginTxn) {
      if (visible(m) && !m.messageId.lt(from)) open.set(txn.txnId, []);
    } else if (m.messageType === MessageType.CommitTxn) {
      const bodies = open.get(txn.txnId);
      if (bodies !== undefined) out.push(`txn:${m.messageId}(${bodies.join(',')})`);
      open.delete(txn.txnId);
    } else if (m.messageType === MessageType.RollbackTxn) open.delete(txn.txnId);
    else open.get(txn.txnId)?.push(m.messageId.toString());
  }
  return out;
}

/**
 * Reads a scanner in the background, as a consumer would, collecting what it gets. It can be
 * stalled (`pause()`), let through a number of messages (`grant(n)`) or run freely (`resume()`).
 */
export class CollectingReader {
  readonly items: ScannedMessage[] = [];
  error: unknown;
  ended = false;
  readonly done: Promise<void>;
  #permits: number;
  #wake: (() => void) | undefined;

  constructor(scanner: AsyncIterable<ScannedMessage>, options: { paused?: boolean } = {}) {
    this.#permits = options.paused === true ? 0 : Number.POSITIVE_INFINITY;
    this.done = this.#run(scanner);
  }

  pause(): void {
    this.#permits = 0;
  }

  resume(): void {
    this.#permits = Number.POSITIVE_INFINITY;
    this.#wakeUp();
  }

  grant(n: number): void {
    this.#permits += n;
    this.#wakeUp();
  }

  /** Data messages so far (no ticks). */
  data(): string[] {
    return dataOf(this.items);
  }

  /** Waits until a TimeTick ≥ `timeTick` was delivered (everything before it is then in). */
  async untilTick(timeTick: bigint, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.ended || this.items.some((m) => m.messageType === MessageType.TimeTick && m.timeTick >= timeTick), {
      timeoutMs,
      intervalMs: 2,
      message: `tick ${timeTick} delivered`,
    });
    if (this.error !== undefined) throw this.error;
  }

  /** Waits until `count` data messages were delivered. */
  async untilData(count: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.ended || this.data().length >= count, { timeoutMs, intervalMs: 2, message: `${count} data messages` });
    if (this.error !== undefined) throw this.error;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #run(scanner: AsyncIterable<ScannedMessage>): Promise<void> {
    const iterator = scanner[Symbol.asyncIterator]();
    try {
      for (;;) {
        while (this.#permits <= 0) await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#permits--;
        const result = await iterator.next();
        if (result.done === true) return;
        this.items.push(result.value);
      }
    } catch (error) {
      this.error = error;
    } finally {
      this.ended = true;
    }
  }
}
