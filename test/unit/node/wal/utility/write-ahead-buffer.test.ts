import { describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { type ImmutableMessage, MessageType } from '../../../../../shared/message/index.js';
import { EvictedError, isEvictedError, WriteAheadBuffer, type WriteAheadBufferReader } from '../../../../../node/wal/utility/index.js';
import { expectTimeTickOrder, expectWaiting, insert, isSettled, lcg, readUntil, tick, turn } from './fixtures.js';

const MiB = 1024 * 1024;
let nextId = 1;
const id = (): number => nextId++;
const data = (tt: number | bigint): ImmutableMessage => insert(id(), tt);
const persisted = (tt: number | bigint): ImmutableMessage => tick(id(), tt, true);
const trivial = (tt: number | bigint): ImmutableMessage => tick(id(), tt, false);

describe('WriteAheadBuffer (Go TestWriteAheadBufferWithOnlyTrivialTimeTick)', () => {
  it('waits for a time tick newer than the exclusive start and reports only the newest trivial tick', async () => {
    const wab = new WriteAheadBuffer({ capacityBytes: 5 * MiB, keepaliveMs: 30_000, firstTimeTickMessage: persisted(0) });

    // Nothing newer than 100 yet: the read waits, and gives up with the caller's signal.
    const ac = new AbortController();
    const pending = wab.readFromExclusiveTimeTick(100n).next({ signal: ac.signal });
    expect(await isSettled(pending)).toBe(false);
    const reason = StreamingError.onShutdown('deadline');
    ac.abort(reason);
    await expect(pending).rejects.toBe(reason);

    const expectedLast = 10_000n;
    const seen: ImmutableMessage[] = [];
    const reader = wab.readFromExclusiveTimeTick(100n);
    const reading = readUntil(reader, expectedLast, seen);

    // A tick equal to the exclusive start is not newer: still waiting.
    wab.append([], trivial(100));
    expect(await isSettled(reading)).toBe(false);

    const random = lcg(7);
    let next = 100n;
    while (next <= expectedLast) {
      next += BigInt(random(1000) + 1);
      wab.append([], trivial(next));
      await turn();
    }
    await reading;
    expectTimeTickOrder(seen);
    expect(seen.every((m) => m.messageType === MessageType.TimeTick && m.notPersisted)).toBe(true);
    expect(seen.at(-1)?.timeTick).toBe(next);
    // Nothing newer: the next read waits.
    await expectWaiting(reader);

    // Trivial ticks are not stored: a reader from 0 gets just the newest one.
    const fromStart = wab.readFromExclusiveTimeTick(0n);
    const first = await fromStart.next();
    expect(first.messageType).toBe(MessageType.TimeTick);
    expect(first.timeTick).toBe(next);
    expect(wab.length).toBe(1);
  });
});

describe('WriteAheadBuffer (Go TestWriteAheadBuffer)', () => {
  it('delivers every entry in order to readers while the writer appends concurrently', async () => {
    const wab = new WriteAheadBuffer({ capacityBytes: 5 * MiB, keepaliveMs: 30_000, firstTimeTickMessage: persisted(1) });
    const expectedLast = 10_000n;
    let total = 0;
    const random = lcg(11);
    const writer = (async () => {
      let next = 100n;
      while (next <= expectedLast) {
        const batch: ImmutableMessage[] = [];
        for (let i = random(10) + 1; i > 0 && next <= expectedLast; i--) {
          next += BigInt(random(100) + 1);
          batch.push(data(next));
        }
        wab.append(batch, persisted((batch.at(-1) as ImmutableMessage).timeTick));
        total += batch.length + 1;
        await turn();
      }
    })();

    const r1 = wab.readFromExclusiveTimeTick(1n);
    const seen: ImmutableMessage[] = [];
    await readUntil(r1, expectedLast, seen);
    // The batch's TimeTick follows its last message.
    const closing = await r1.next();
    expect(closing.messageType).toBe(MessageType.TimeTick);
    seen.push(closing);
    await writer;
    expectTimeTickOrder(seen);
    expect(seen).toHaveLength(total);

    // A second reader from the middle sees exactly the rest.
    let target = Math.floor(seen.length / 2);
    while (target + 1 < seen.length && (seen[target + 1] as ImmutableMessage).timeTick === (seen[target] as ImmutableMessage).timeTick) target++;
    const r2 = wab.readFromExclusiveTimeTick((seen[target] as ImmutableMessage).timeTick);
    for (const expected of seen.slice(target + 1)) expect(await r2.next()).toBe(expected);

    // Before the first entry: those messages were never held.
    expect(() => wab.readFromExclusiveTimeTick(0n)).toThrow(EvictedError);

    // Both readers are at the end; a newer trivial tick reaches both.
    await expectWaiting(r1);
    const last = (seen.at(-1) as ImmutableMessage).timeTick;
    const next1 = r1.next();
    const next2 = r2.next();
    wab.append([], trivial(last + 1n));
    expect((await next1).timeTick).toBe(last + 1n);
    expect((await next2).messageType).toBe(MessageType.TimeTick);
  });
});

describe('WriteAheadBuffer (Go TestWriteAheadBufferEviction)', () => {
  it('a slow reader gets evicted once keepalive passes, after the last entry it saw', async () => {
    let now = 0;
    const wab = new WriteAheadBuffer({ capacityBytes: 5 * MiB, keepaliveMs: 50, firstTimeTickMessage: persisted(0), now: () => now });
    wab.append(Array.from({ length: 99 }, (_, i) => data(i + 1)), persisted(99));

    const reader = wab.readFromExclusiveTimeTick(0n);
    expect((await reader.next()).timeTick).toBe(1n);
    const seen: ImmutableMessage[] = [];
    await readUntil(reader, 98n, seen);
    seen.push(await reader.next()); // TimeTick 99

    wab.append(Array.from({ length: 100 }, (_, i) => data(i + 100)), persisted(199));
    now = 60;
    wab.append([], trivial(200));

    let error: unknown;
    try {
      for (;;) seen.push(await reader.next());
    } catch (e) {
      error = e;
    }
    expect(isEvictedError(error)).toBe(true);
    expectTimeTickOrder(seen);
    expect(seen.at(-1)?.timeTick).toBe(99n);
    // It stays evicted.
    expect(() => reader.tryNext()).toThrow(EvictedError);

    // The last persisted tick survives, so a catch-up scanner can still switch over at 199.
    expect(wab.length).toBe(1);
    expect(wab.earliestTimeTick).toBe(199n);
    expect(() => wab.readFromExclusiveTimeTick(198n)).toThrow(EvictedError);
    expect((await wab.readFromExclusiveTimeTick(199n).next()).timeTick).toBe(200n);
  });
});

describe('WriteAheadBuffer', () => {
  const fresh = (options: { capacityBytes?: number; now?: () => number } = {}): WriteAheadBuffer =>
    new WriteAheadBuffer({ capacityBytes: options.capacityBytes ?? MiB, keepaliveMs: 1000, firstTimeTickMessage: persisted(10), ...(options.now ? { now: options.now } : {}) });

  it('positions a reader after the exclusive time tick', () => {
    const wab = fresh();
    const batch = [data(11), data(13), data(15)];
    wab.append(batch, persisted(15));
    const read = (t: bigint): bigint[] => {
      const r = wab.readFromExclusiveTimeTick(t);
      const out: bigint[] = [];
      for (let m = r.tryNext(); m !== undefined; m = r.tryNext()) out.push(m.timeTick);
      return out;
    };
    expect(read(10n)).toEqual([11n, 13n, 15n, 15n]);
    expect(read(12n)).toEqual([13n, 15n, 15n]);
    expect(read(13n)).toEqual([15n, 15n]);
    expect(read(15n)).toEqual([]);
    expect(read(40n)).toEqual([]);
    expect(() => read(9n)).toThrow(EvictedError);
  });

  it('a reader started beyond the stored entries skips what is not newer than its start', () => {
    const wab = fresh();
    wab.append([], trivial(20));
    const r = wab.readFromExclusiveTimeTick(30n);
    expect(r.tryNext()).toBeUndefined();
    wab.append([data(25), data(31)], persisted(32));
    expect(r.tryNext()?.timeTick).toBe(31n);
    expect(r.tryNext()?.timeTick).toBe(32n);
    expect(r.tryNext()).toBeUndefined();
    expect(r.lastTimeTick).toBe(32n);
  });

  it('stores a persisted tick of an empty batch and reports a trivial one only when newer', () => {
    const wab = fresh();
    const r = wab.readFromExclusiveTimeTick(10n);
    wab.append([], persisted(12));
    expect(wab.length).toBe(2);
    expect(r.tryNext()?.timeTick).toBe(12n);
    expect(r.tryNext()).toBeUndefined();
    wab.append([], trivial(13));
    expect(wab.length).toBe(2);
    expect(wab.lastTimeTickMessage.timeTick).toBe(13n);
    expect(r.tryNext()?.notPersisted).toBe(true);
    expect(r.tryNext()).toBeUndefined();
  });

  it('evicts for size but never the last entry', () => {
    const wab = fresh({ capacityBytes: 0 });
    wab.append([data(11), data(12)], persisted(12));
    expect(wab.length).toBe(1);
    expect(wab.earliestTimeTick).toBe(12n);
    expect(wab.bytes).toBe(wab.lastTimeTickMessage.estimateSize());

    const sized = data(20);
    const bounded = fresh({ capacityBytes: sized.estimateSize() * 3 });
    bounded.append([sized, data(21), data(22), data(23)], persisted(23));
    expect(bounded.bytes).toBeLessThanOrEqual(sized.estimateSize() * 3);
    expect(bounded.length).toBeGreaterThanOrEqual(1);
  });

  it('evicts for age batch by batch: a batch goes whole once expired, the later ones stay', () => {
    let now = 0;
    const wab = fresh({ now: () => now });
    wab.append([data(11), data(12)], persisted(12));
    now = 500;
    wab.append([data(13)], persisted(13));
    now = 1001; // the first two batches (the seed tick and 11, 12) expired, the third has not
    wab.append([data(14)], persisted(14));
    expect(wab.earliestTimeTick).toBe(13n);
    expect(wab.length).toBe(4);
    const read: bigint[] = [];
    expect(() => wab.readFromExclusiveTimeTick(12n)).toThrow(EvictedError);
    const reader = wab.readFromExclusiveTimeTick(13n);
    for (let m = reader.tryNext(); m !== undefined; m = reader.tryNext()) read.push(m.timeTick);
    expect(read).toEqual([14n, 14n]);
    now = 5000; // all expired: only the newest tick stays
    wab.append([], persisted(15));
    expect(wab.length).toBe(1);
    expect(wab.bytes).toBe(wab.lastTimeTickMessage.estimateSize());
  });

  it('keeps offsets continuous across many evictions', () => {
    let now = 0;
    const wab = fresh({ now: () => now });
    const reader = wab.readFromExclusiveTimeTick(10n);
    const drain = (r: WriteAheadBufferReader, into: bigint[]): void => {
      for (let m = r.tryNext(); m !== undefined; m = r.tryNext()) into.push(m.timeTick);
    };
    const expected: bigint[] = [];
    const got: bigint[] = [];
    let tt = 10;
    for (let round = 0; round < 30; round++) {
      const batch = Array.from({ length: 100 }, () => data(++tt));
      wab.append(batch, persisted(tt));
      expected.push(...batch.map((m) => m.timeTick), BigInt(tt));
      // Entries live 1000 ms and a round takes 600 ms: a reader that reads every other round
      // stays just ahead of eviction while the buffer's storage wraps around many times over.
      now += 600;
      if (round % 2 === 0) drain(reader, got);
    }
    drain(reader, got);
    expect(got).toEqual(expected);
    expect(wab.length).toBeLessThan(400);
    expect(() => wab.readFromExclusiveTimeTick(10n)).toThrow(EvictedError);
    const late: bigint[] = [];
    drain(wab.readFromExclusiveTimeTick(BigInt(tt - 150)), late);
    expect(late).toEqual(expected.slice(expected.indexOf(BigInt(tt - 150)) + 1));
  });

  it('rejects out-of-order batches and stays unchanged', () => {
    const wab = fresh();
    wab.append([data(11)], persisted(11));
    const before = wab.length;
    expect(() => wab.append([], persisted(11))).toThrow(RangeError);
    expect(() => wab.append([data(11)], persisted(12))).toThrow(RangeError);
    expect(() => wab.append([data(13), data(12)], persisted(14))).toThrow(RangeError);
    expect(() => wab.append([data(15)], persisted(14))).toThrow(RangeError);
    expect(() => wab.append([data(15)], trivial(16))).toThrow(RangeError);
    expect(() => wab.append([], data(20))).toThrow(RangeError);
    expect(wab.length).toBe(before);
    expect(() => new WriteAheadBuffer({ capacityBytes: -1, keepaliveMs: 1, firstTimeTickMessage: persisted(1) })).toThrow(RangeError);
    expect(() => new WriteAheadBuffer({ capacityBytes: 1, keepaliveMs: 1, firstTimeTickMessage: data(1) })).toThrow(RangeError);
  });

  it('fails readers with ON_SHUTDOWN on close and ignores later appends', async () => {
    const wab = fresh();
    const r = wab.readFromExclusiveTimeTick(10n);
    const waiting = r.next();
    wab.close();
    await expect(waiting).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });
    expect(() => wab.readFromExclusiveTimeTick(10n)).toThrow(StreamingError);
    wab.append([data(11)], persisted(11));
    expect(wab.closed).toBe(true);
    expect(wab.length).toBe(0);
    wab.close();
  });

  it('reports eviction as an INNER StreamingError recognised by its predicate', () => {
    const error = new EvictedError('offset 3');
    expect(error).toBeInstanceOf(StreamingError);
    expect(error.code).toBe(StreamingCode.INNER);
    expect(isEvictedError(error)).toBe(true);
    expect(isEvictedError(StreamingError.inner('write-ahead buffer: offset 3 has been evicted'))).toBe(false);
  });
});
