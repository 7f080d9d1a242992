import { describe, expect, it } from 'vitest';
import { type ScanSource, StoreScanner } from '../../../../../node/wal/backend/backend-scanner.js';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { ImmutableMessage, MessageId } from '../../../../../shared/message/index.js';
import { waitFor } from '../../../../../shared/util/index.js';

const at = (offset: bigint): ImmutableMessage => ImmutableMessage.create(MessageId.of(offset), Buffer.from(String(offset)), {});

/** A source over offsets [floor, end) whose reads the test can skew, as a racing truncation would. */
class FakeSource implements ScanSource {
  readonly name = 'p';
  floor = 1n;
  end = 1n;
  reads: [bigint, number][] = [];
  /** When set, reads start here instead of at the asked position. */
  skewTo: bigint | undefined;
  readonly #waiters = new Set<() => void>();

  read(from: bigint, limit: number): ImmutableMessage[] {
    this.reads.push([from, limit]);
    const out: ImmutableMessage[] = [];
    for (let o = this.skewTo ?? from; o < this.end && out.length < limit; o++) out.push(at(o));
    return out;
  }
  append(count: number): void {
    this.end += BigInt(count);
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }
  addWaiter(wake: () => void): void {
    this.#waiters.add(wake);
  }
  removeWaiter(wake: () => void): void {
    this.#waiters.delete(wake);
  }
  get waiting(): number {
    return this.#waiters.size;
  }
}

async function errorOf(p: Promise<unknown>): Promise<StreamingError> {
  const e = await p.then(() => undefined, (error: unknown) => error);
  expect(e).toBeInstanceOf(StreamingError);
  return e as StreamingError;
}

describe('StoreScanner', () => {
  it('never asks for more than its free read-ahead and refills at half', async () => {
    const source = new FakeSource();
    source.append(100);
    const scanner = new StoreScanner(source, { name: 's', position: 1n, readAhead: 8 });
    expect((await scanner.next()).value?.messageId.offset).toBe(1n);
    expect(source.reads).toEqual([[1n, 8]]);
    expect(scanner.bufferedCount).toBe(7);
    for (let i = 0; i < 2; i++) await scanner.next();
    expect(source.reads).toHaveLength(1);
    await scanner.next(); // 4 left: at half, a refill for the free room starts
    expect(source.reads[1]).toEqual([9n, 4]);
    expect(scanner.bufferedCount).toBeLessThanOrEqual(8);
  });

  it('waits at the end and wakes on the next batch, without repeating or skipping', async () => {
    const source = new FakeSource();
    source.append(2);
    const scanner = new StoreScanner(source, { name: 's', position: 1n, readAhead: 4 });
    const seen = [(await scanner.next()).value, (await scanner.next()).value].map((m) => m?.messageId.offset);
    const pending = scanner.next();
    await waitFor(() => source.waiting === 1);
    source.append(1);
    seen.push((await pending).value?.messageId.offset);
    expect(seen).toEqual([1n, 2n, 3n]);
  });

  it('fails with UNRECOVERABLE when a read returns records past its position after a truncation', async () => {
    const source = new FakeSource();
    source.append(20);
    const scanner = new StoreScanner(source, { name: 's', position: 3n, readAhead: 4 });
    // The truncation deleted 3..9 between the floor check and the read.
    source.skewTo = 10n;
    const original = source.read.bind(source);
    source.read = (from, limit) => {
      source.floor = 10n;
      return original(from, limit);
    };
    const error = await errorOf(scanner.next());
    expect(error.code).toBe(StreamingCode.UNRECOVERABLE);
    expect(error.message).toContain('message id 3 is truncated');
    expect(error.message).toContain('earliest available message id is 10');
  });

  it('fails with INNER when records are missing without a truncation', async () => {
    const source = new FakeSource();
    source.append(20);
    source.skewTo = 5n;
    const scanner = new StoreScanner(source, { name: 's', position: 3n, readAhead: 4 });
    const error = await errorOf(scanner.next());
    expect(error.code).toBe(StreamingCode.INNER);
    expect(error.message).toContain('record 3 is missing');
  });

  it('starts at the first record when asked for a position below the floor of a never-truncated log', async () => {
    const source = new FakeSource();
    source.append(2);
    const scanner = new StoreScanner(source, { name: 's', position: 0n, readAhead: 4 });
    expect((await scanner.next()).value?.messageId.offset).toBe(1n);
  });

  it('ends a waiting read on close (done) and on fail (the error), and stops waiting on the source', async () => {
    const source = new FakeSource();
    const closing = new StoreScanner(source, { name: 'c', position: 1n, readAhead: 4 });
    const pendingClose = closing.next();
    await waitFor(() => source.waiting === 1);
    await closing.close();
    expect(await pendingClose).toEqual({ value: undefined, done: true });
    expect(source.waiting).toBe(0);

    const failing = new StoreScanner(source, { name: 'f', position: 1n, readAhead: 4 });
    const pendingFail = failing.next();
    await waitFor(() => source.waiting === 1);
    const reason = StreamingError.onShutdown('backend closed');
    await failing.fail(reason);
    expect(await errorOf(pendingFail)).toBe(reason);
    expect(await failing.closed()).toBe(reason);
    expect(source.waiting).toBe(0);
  });

  describe('takeBuffered', () => {
    const offsets = (chunk: readonly ImmutableMessage[] | undefined): bigint[] => (chunk ?? []).map((m) => m.messageId.offset);

    it('takes the read-ahead in order, refills within the bound, and mixes with next() exactly once', async () => {
      const source = new FakeSource();
      source.append(30);
      const scanner = new StoreScanner(source, { name: 's', position: 1n, readAhead: 8 });
      expect(scanner.takeBuffered()).toBeUndefined(); // nothing read yet
      const seen = [(await scanner.next()).value?.messageId.offset];
      const first = scanner.takeBuffered();
      expect(offsets(first)).toEqual([2n, 3n, 4n, 5n, 6n, 7n, 8n]);
      seen.push(...offsets(first));
      // Taking freed the whole read-ahead: the refill asks for exactly that much, no more.
      expect(source.reads).toEqual([[1n, 8], [9n, 8]]);
      expect(scanner.bufferedCount).toBe(8);
      while (seen.length < 30) {
        const chunk = scanner.takeBuffered();
        if (chunk === undefined) seen.push((await scanner.next()).value?.messageId.offset);
        else seen.push(...offsets(chunk));
        expect(chunk?.length ?? 0).toBeLessThanOrEqual(8);
        expect(scanner.bufferedCount).toBeLessThanOrEqual(8);
      }
      expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i + 1)));
      for (const [, limit] of source.reads) expect(limit).toBeLessThanOrEqual(8);
    });

    it('gives nothing at the end of the log; next() waits for the next batch', async () => {
      const source = new FakeSource();
      source.append(2);
      const scanner = new StoreScanner(source, { name: 's', position: 1n, readAhead: 4 });
      await scanner.next();
      expect(offsets(scanner.takeBuffered())).toEqual([2n]);
      expect(scanner.takeBuffered()).toBeUndefined();
      const pending = scanner.next();
      await waitFor(() => source.waiting === 1);
      source.append(3);
      expect((await pending).value?.messageId.offset).toBe(3n);
      expect(offsets(scanner.takeBuffered())).toEqual([4n, 5n]);
    });

    it('gives nothing once closed or failed, even with messages buffered; next() then reports the end', async () => {
      const source = new FakeSource();
      source.append(10);
      const closing = new StoreScanner(source, { name: 'c', position: 1n, readAhead: 4 });
      await closing.next();
      expect(closing.bufferedCount).toBe(3);
      await closing.close();
      expect(closing.takeBuffered()).toBeUndefined();
      expect(await closing.next()).toEqual({ value: undefined, done: true });

      const failing = new StoreScanner(source, { name: 'f', position: 1n, readAhead: 4 });
      await failing.next();
      const reason = StreamingError.channelFenced('p');
      await failing.fail(reason);
      expect(failing.takeBuffered()).toBeUndefined();
      expect(await errorOf(failing.next())).toBe(reason);
    });
  });
});
