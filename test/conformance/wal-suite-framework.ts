/**
 * The Milvus `TestWAL` acceptance test (adaptor/wal_test.go, reference/milvus-node.md §10) on our
 * WAL: 3 pchannels in parallel, terms 1..3 each (open, work, close, reopen at the next term: the
 * data survives), a random mix of plain messages on 3 vchannels, committed, rolled-back and
 * expired transactions, and three concurrent readers (one vchannel / all / a type filter) that
 * stall long enough to fall out of the write-ahead buffer.
 */
import { expect, it } from 'vitest';
import type { AppendResult, ScannedMessage, Wal, WalScannerAdaptor } from '../../node/wal/index.js';
import {
  deliverAll,
  deliverStartFrom,
  filterMessageTypes,
  type MessageId,
  MessageType,
  pchannelInfo,
  StreamingError,
  waitFor,
} from '../../shared/index.js';
import {
  beginTxn,
  channels,
  commitTxn,
  createCollection,
  expectStrictlyIncreasingTimeTicks,
  insert,
  propertyOf,
  rollbackTxn,
  seededRandom,
  suiteOpener,
  txnBody,
  txnOf,
  type WalSuiteFactory,
} from './wal-suite-fixture.js';

const OPS_PER_TERM = 120;
const APPEND_CONCURRENCY = 8;
/** A stalled reader waits until this many more appends landed: far beyond the small buffer. */
const STALL_APPENDS = 40;

/** A message the readers must see (a committed transaction counts once, at its commit). */
interface Written {
  readonly type: MessageType;
  readonly id: MessageId;
  readonly timeTick: bigint;
  readonly lastConfirmed: MessageId;
  readonly vchannel: string;
  readonly key: string;
  readonly bodies: number;
}

function written(type: MessageType, result: AppendResult, vchannel: string, key: string, bodies = 0): Written {
  return { type, id: result.messageId, timeTick: result.timeTick, lastConfirmed: result.lastConfirmedMessageId, vchannel, key, bodies };
}

/** One pchannel through terms 1..3. */
class OneWalFramework {
  readonly written: Written[] = [];
  readonly names = channels('testwal');
  readonly #random: () => number;
  switchesToCatchup = 0;
  appended = 0;
  appending = false;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  async run(factory: () => ReturnType<typeof suiteOpener>): Promise<void> {
    let lastMaxTimeTick = 0n;
    for (let term = 1n; term <= 3n; term++) {
      const wal = await factory().open(pchannelInfo(this.names.pchannel, term), { signal: new AbortController().signal });
      expect(wal.channel.name).toBe(this.names.pchannel);
      expect(wal.channel.term).toBe(term);
      expect(wal.metrics().recoveryTimeTick).toBeGreaterThan(lastMaxTimeTick);
      await this.#readAndWrite(wal, term);
      lastMaxTimeTick = this.written.reduce((max, w) => (w.timeTick > max ? w.timeTick : max), 0n);
      await wal.close();
    }
  }

  async #readAndWrite(wal: Wal, term: bigint): Promise<void> {
    const { v1, v3 } = this.names;
    // An exclusive message before the mix (it would fail open transactions of its vchannel).
    const ddl = await wal.append(createCollection(v3, { id: `${term}-ddl` }));
    this.written.push(written(MessageType.CreateCollection, ddl, v3, `${term}-ddl`));
    const base = [...this.written];
    const done = (m: ScannedMessage): boolean => m.messageType === MessageType.Insert && propertyOf(m, 'term') === String(term);
    const readers = [
      this.#read(wal, { vchannel: v1 }, done),
      this.#read(wal, {}, done),
      this.#read(wal, { types: [MessageType.Insert] }, done),
    ];
    const newWritten = await this.#append(wal, term);
    const [byVChannel, all, byType] = await Promise.all(readers);
    this.written.push(...newWritten);
    for (const read of [byVChannel, all, byType]) expectStrictlyIncreasingTimeTicks(read as ScannedMessage[]);
    expectSameMessages(byVChannel as ScannedMessage[], this.written.filter((w) => w.vchannel === v1));
    expectSameMessages(all as ScannedMessage[], this.written);
    expectSameMessages(byType as ScannedMessage[], this.written.filter((w) => w.type !== MessageType.CreateCollection));
    expect(base.length).toBeLessThan(this.written.length);
    await this.#readWithOption(wal);
  }

  /** The concurrent appender; ends with the term's sentinel on v1. */
  async #append(wal: Wal, term: bigint): Promise<Written[]> {
    const out: Written[] = [];
    let next = 0;
    let lastMvcc = 0n;
    this.appending = true;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < OPS_PER_TERM; i = next++) {
        await this.#op(wal, `${term}-${i}`, out);
        const mvcc = wal.metrics().mvccTimeTick ?? 0n;
        expect(mvcc).toBeGreaterThanOrEqual(lastMvcc);
        lastMvcc = mvcc;
      }
    };
    await Promise.all(Array.from({ length: APPEND_CONCURRENCY }, worker));
    const sentinel = await wal.append(insert(this.names.v1, { id: `${term}-sentinel`, term: String(term) }));
    this.appending = false;
    out.push(written(MessageType.Insert, sentinel, this.names.v1, `${term}-sentinel`));
    return out;
  }

  async #op(wal: Wal, key: string, out: Written[]): Promise<void> {
    const vchannel = this.#pick([this.names.v1, this.names.v2, this.names.v3]);
    if (this.#random() < 0.5) {
      out.push(written(MessageType.Insert, await this.#count(wal.append(insert(vchannel, { id: key }))), vchannel, key));
    } else {
      const { txn, bodies } = await this.#partOfTxn(wal, vchannel, 0);
      const commit = await this.#count(wal.append(commitTxn(txn, vchannel, { id: key })));
      out.push(written(MessageType.Txn, commit, vchannel, key, bodies));
    }
    if (this.#random() < 1 / 3) {
      // A transaction nobody may see: rolled back, or abandoned until its short keepalive expires.
      const rollback = this.#random() < 0.5;
      const { txn } = await this.#partOfTxn(wal, vchannel, rollback ? 0 : 60);
      if (rollback) await this.#count(wal.append(rollbackTxn(txn, vchannel)));
    }
  }

  async #partOfTxn(wal: Wal, vchannel: string, keepaliveMs: number): Promise<{ txn: ReturnType<typeof txnOf>; bodies: number }> {
    const txn = txnOf(await this.#count(wal.append(beginTxn(vchannel, keepaliveMs))));
    const bodies = Math.floor(this.#random() * 5);
    for (let b = 0; b < bodies; b++) {
      try {
        await this.#count(wal.append(txnBody(txn, vchannel)));
      } catch (error) {
        // A short-lived (abandoned) transaction may expire under load before its bodies land.
        if (keepaliveMs > 0 && error instanceof StreamingError && error.isTxnUnavailable()) break;
        throw error;
      }
    }
    return { txn, bodies };
  }

  async #count(p: Promise<AppendResult>): Promise<AppendResult> {
    const result = await p;
    this.appended++;
    return result;
  }

  /** One reader; stalls now and then (only while tailing) until the buffer has moved far past it. */
  async #read(wal: Wal, filter: { vchannel?: string; types?: MessageType[] }, stop: (m: ScannedMessage) => boolean): Promise<ScannedMessage[]> {
    const scanner = wal.read({
      name: 'testwal-reader',
      deliverPolicy: deliverAll(),
      ...(filter.vchannel !== undefined ? { vchannel: filter.vchannel } : {}),
      ...(filter.types !== undefined ? { filters: [filterMessageTypes(filter.types)] } : {}),
    }) as WalScannerAdaptor;
    const out: ScannedMessage[] = [];
    try {
      for await (const m of scanner) {
        if (m.messageType === MessageType.TimeTick) continue;
        out.push(m);
        if (stop(m)) break;
        if (this.appending && scanner.mode === 'tailing' && this.#random() < 0.05) {
          const target = this.appended + STALL_APPENDS;
          await waitFor(() => this.appended >= target || !this.appending, { timeoutMs: 20_000, intervalMs: 2 });
        }
      }
    } finally {
      this.switchesToCatchup += scanner.stats.switchesToCatchup;
      await scanner.close();
    }
    return out;
  }

  /** Reading from any message's `_lc` with `tt ≥` its tick yields exactly the messages from there on. */
  async #readWithOption(wal: Wal): Promise<void> {
    const maxTimeTick = this.written.reduce((max, w) => (w.timeTick > max ? w.timeTick : max), 0n);
    for (let i = 0; i < 5; i++) {
      const from = this.written[Math.floor(this.#random() * this.written.length)] as Written;
      const scanner = wal.read({ deliverPolicy: deliverStartFrom(from.lastConfirmed), filters: [{ kind: 'timeTickGte', timeTick: from.timeTick }] });
      const got: ScannedMessage[] = [];
      for await (const m of scanner) {
        if (m.messageType === MessageType.TimeTick) continue;
        got.push(m);
        if (m.timeTick >= maxTimeTick) break;
      }
      await scanner.close();
      expectStrictlyIncreasingTimeTicks(got);
      expect(got.length).toBe(this.written.filter((w) => w.timeTick >= from.timeTick).length);
    }
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)] as T;
  }
}

/** Same messages (compared in id order): type, id, key, and for transactions the body count. */
function expectSameMessages(read: readonly ScannedMessage[], expected: readonly Written[]): void {
  const got = [...read].sort((a, b) => a.messageId.compare(b.messageId));
  const want = [...expected].sort((a, b) => a.id.compare(b.id));
  const describe = (m: ScannedMessage): string => `${m.messageType}:${m.messageId.toString()}:${propertyOf(m, 'id') ?? '-'}:${'bodies' in m ? m.bodies.length : 0}`;
  const describeWritten = (w: Written): string => `${w.type}:${w.id.toString()}:${w.key}:${w.bodies}`;
  expect(got.map(describe)).toEqual(want.map(describeWritten));
}

/** Registers the TestWAL case. */
export function describeTestWal(factory: WalSuiteFactory): void {
  it('TestWAL: 3 pchannels × terms 1..3, random mix, 3 stalling readers, resume from _lc', async () => {
    const env = await factory();
    try {
      const frameworks = [1, 2, 3].map((seed) => new OneWalFramework(seed * 7919));
      // A small write-ahead buffer: a stalled reader falls out of it and must catch up.
      await Promise.all(frameworks.map((f) => f.run(() => suiteOpener(env.backendOpener, { wabCapacityBytes: 2048 }))));
      expect(frameworks.reduce((n, f) => n + f.switchesToCatchup, 0)).toBeGreaterThan(0);
    } finally {
      await env.cleanup();
    }
  }, 120_000);
}
