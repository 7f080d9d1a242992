import { describe, expect, it } from 'vitest';
import { fencedError } from '../../../../../node/wal/backend/backend-errors.js';
import { type CommitOwner, GroupCommitWriter, type GroupCommitHost } from '../../../../../node/wal/backend/group-commit.js';
import type { EngineBatch, MetaKey, StorageEngine } from '../../../../../node/wal/backend/storage-engine.js';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { type ImmutableMessage, MessageId, MutableMessage } from '../../../../../shared/message/index.js';
import { Deferred, waitFor } from '../../../../../shared/util/index.js';

/** What a written batch of {@link GatedEngine} held. */
interface WrittenBatch {
  readonly firstOffset: bigint;
  readonly records: string[];
  /** Offsets of the stored messages added, index for index. */
  readonly offsets: bigint[];
  readonly meta: readonly (readonly [MetaKey, Buffer])[];
  readonly sync: boolean;
}

/**
 * A storage engine whose writes complete when the test says so. Records whose text is in
 * `refuse` make `add` throw (an engine bug, as far as the writer knows).
 */
class GatedEngine implements StorageEngine<string> {
  readonly location = 'gated';
  /** Batches started, in order, as they are being built. */
  readonly started: { firstOffset: bigint; records: string[]; offsets: bigint[]; discarded: boolean }[] = [];
  /** Batches written, in order. */
  readonly batches: WrittenBatch[] = [];
  readonly refuse = new Set<string>();
  readonly #gates: Deferred<void>[] = [];

  /** Completes the oldest pending write, successfully or with `error`. */
  release(error?: Error): void {
    const gate = this.#gates.shift();
    if (gate === undefined) throw new Error('no write in flight');
    if (error) gate.reject(error);
    else gate.resolve();
  }
  get inFlight(): number {
    return this.#gates.length;
  }
  load = () => Promise.resolve({ term: undefined, floor: 1n, end: 1n });
  prepare = (m: MutableMessage): string => m.payload.toString();
  sizeOf = (r: string): number => r.length;
  newBatch(firstOffset: bigint): EngineBatch<string> {
    const started = { firstOffset, records: [] as string[], offsets: [] as bigint[], discarded: false };
    this.started.push(started);
    return {
      firstOffset,
      add: (record: string, message: ImmutableMessage) => {
        if (this.refuse.has(record)) throw new Error(`cannot store ${record}`);
        started.records.push(record);
        started.offsets.push(message.messageId.offset);
      },
      write: (meta, sync) => {
        this.batches.push({ firstOffset, records: started.records, offsets: started.offsets, meta, sync });
        const gate = new Deferred<void>();
        this.#gates.push(gate);
        return gate.promise;
      },
      discard: () => {
        started.discarded = true;
      },
    };
  }
  read = () => Promise.resolve([]);
  deleteBelow = () => Promise.resolve();
  getMeta = () => Promise.resolve(undefined);
  close = () => Promise.resolve();
}

class Host implements GroupCommitHost<string> {
  readonly name = 'p';
  term: bigint | undefined = 1n;
  readonly commits: { first: bigint; messages: readonly ImmutableMessage[] }[] = [];
  constructor(readonly engine: GatedEngine) {}
  currentTerm = (): bigint | undefined => this.term;
  fencedError = (owner: CommitOwner, term: bigint): StreamingError => fencedError(this.name, owner.term, term);
  committed(first: bigint, messages: readonly ImmutableMessage[]): void {
    this.commits.push({ first, messages });
  }
}

class Owner implements CommitOwner {
  queued = 0;
  settled = 0;
  constructor(readonly term: bigint) {}
  requestQueued(): void {
    this.queued++;
  }
  requestSettled(): void {
    this.settled++;
    expect(this.settled).toBeLessThanOrEqual(this.queued);
  }
}

const msg = (text: string): MutableMessage => MutableMessage.create(Buffer.from(text));

function setup(options: Partial<{ sync: boolean; maxBatchMessages: number; maxBatchBytes: number; earlyWriteBytes: number }> = {}) {
  const engine = new GatedEngine();
  const host = new Host(engine);
  const writer = new GroupCommitWriter<string>(host, 1n, { sync: true, maxBatchMessages: 100, maxBatchBytes: 1 << 20, earlyWriteBytes: 1 << 20, ...options });
  return { engine, host, writer };
}

describe('GroupCommitWriter', () => {
  it('writes a lone append at once and batches whatever queues while a write is in flight', async () => {
    const { engine, writer } = setup();
    const owner = new Owner(1n);
    const first = writer.append(owner, 'a', msg('a'), 1);
    await waitFor(() => engine.inFlight === 1);
    const rest = ['b', 'c', 'd'].map((t) => writer.append(owner, t, msg(t), 1));
    expect(engine.batches).toHaveLength(1);
    engine.release();
    expect((await first).messageId.offset).toBe(1n);
    await waitFor(() => engine.inFlight === 1);
    expect(engine.batches[1]?.records).toEqual(['b', 'c', 'd']);
    expect(engine.batches[1]?.firstOffset).toBe(2n);
    engine.release();
    expect((await Promise.all(rest)).map((stored) => stored.messageId.offset)).toEqual([2n, 3n, 4n]);
    expect(owner.settled).toBe(4);
    await writer.idle();
  });

  it('lets the callers a write resumed join the small batch behind it instead of writing that alone', async () => {
    const { engine, writer } = setup();
    const owner = new Owner(1n);
    // A closed loop: the caller appends again as soon as its append resolves, through a few
    // promise reactions, as the WAL layers above the backend take.
    const looped = writer.append(owner, 'a', msg('a'), 1).then(async () => {
      for (let hop = 0; hop < 10; hop++) await Promise.resolve();
      return writer.append(owner, 'b', msg('b'), 1);
    });
    await waitFor(() => engine.inFlight === 1);
    const tick = writer.append(owner, 't', msg('t'), 1); // staged alone during the write
    engine.release();
    await waitFor(() => engine.inFlight === 1);
    expect(engine.batches.map((b) => b.records)).toEqual([['a'], ['t', 'b']]);
    engine.release();
    expect([(await tick).messageId.offset, (await looped).messageId.offset]).toEqual([2n, 3n]);
    await writer.idle();
  });

  it('writes the batch being built as soon as it reaches earlyWriteBytes after a write; the rest of the burst waits', async () => {
    const { engine, writer } = setup({ earlyWriteBytes: 3 });
    const owner = new Owner(1n);
    const started: number[] = [];
    const burst = writer.append(owner, 'a', msg('a'), 1).then(() =>
      ['b', 'c', 'd', 'e'].map((t) => {
        const appended = writer.append(owner, t, msg(t), 1);
        started.push(engine.batches.length);
        return appended;
      }),
    );
    await waitFor(() => engine.inFlight === 1);
    engine.release();
    const rest = await burst;
    // The write of b, c, d began inside the append of d, before e arrived.
    expect(started).toEqual([1, 1, 2, 2]);
    expect(engine.batches.map((b) => b.records)).toEqual([['a'], ['b', 'c', 'd']]);
    engine.release();
    await waitFor(() => engine.inFlight === 1);
    expect(engine.batches[2]?.records).toEqual(['e']);
    engine.release();
    expect((await Promise.all(rest)).map((stored) => stored.messageId.offset)).toEqual([2n, 3n, 4n, 5n]);
    await writer.idle();
  });

  it('writes a full batch at once between writes, whatever its size', async () => {
    const { engine, writer } = setup({ maxBatchMessages: 2 });
    const owner = new Owner(1n);
    const started: number[] = [];
    const burst = writer.append(owner, 'a', msg('a'), 1).then(() =>
      ['b', 'c', 'd'].map((t) => {
        const appended = writer.append(owner, t, msg(t), 1);
        started.push(engine.batches.length);
        return appended;
      }),
    );
    await waitFor(() => engine.inFlight === 1);
    engine.release();
    const rest = await burst;
    expect(started).toEqual([1, 2, 2]);
    engine.release();
    await waitFor(() => engine.batches.length === 3);
    expect(engine.batches.map((b) => b.records)).toEqual([['a'], ['b', 'c'], ['d']]);
    engine.release();
    expect((await Promise.all(rest)).map((stored) => stored.messageId.offset)).toEqual([2n, 3n, 4n]);
    await writer.idle();
  });

  it('builds the next batch while one is in flight: requests get their offsets and are stored at once', async () => {
    const { engine, writer } = setup();
    const owner = new Owner(1n);
    const first = writer.append(owner, 'a', msg('a'), 1);
    await waitFor(() => engine.inFlight === 1);
    const rest = ['b', 'c'].map((t) => writer.append(owner, t, msg(t), 1));
    // Before the first batch is durable, the second already holds its records at their offsets.
    expect(engine.started[1]).toEqual({ firstOffset: 2n, records: ['b', 'c'], offsets: [2n, 3n], discarded: false });
    expect(engine.batches).toHaveLength(1);
    engine.release();
    await first;
    await waitFor(() => engine.inFlight === 1);
    expect(engine.batches[1]?.records).toEqual(['b', 'c']);
    engine.release();
    expect((await Promise.all(rest)).map((stored) => stored.messageId.offset)).toEqual([2n, 3n]);
  });

  it('rebuilds the batches behind a failed write at the offsets it freed', async () => {
    const { engine, host, writer } = setup({ maxBatchMessages: 2 });
    const owner = new Owner(1n);
    const failed = writer.append(owner, 'a', msg('a'), 1);
    await waitFor(() => engine.inFlight === 1);
    const behind = ['b', 'c', 'd'].map((t) => writer.append(owner, t, msg(t), 1));
    expect(engine.started.slice(1).map((b) => [b.firstOffset, b.records])).toEqual([
      [2n, ['b', 'c']],
      [4n, ['d']],
    ]);
    engine.release(new Error('disk on fire'));
    expect(((await failed.then(() => undefined, (e: unknown) => e)) as StreamingError).code).toBe(StreamingCode.INNER);
    await waitFor(() => engine.inFlight === 1);
    // The staged batches were dropped unwritten and built again from offset 1.
    expect(engine.started.slice(1, 3).every((b) => b.discarded)).toBe(true);
    expect(engine.batches[1]).toMatchObject({ firstOffset: 1n, records: ['b', 'c'], offsets: [1n, 2n] });
    engine.release();
    await waitFor(() => engine.inFlight === 1);
    expect(engine.batches[2]).toMatchObject({ firstOffset: 3n, records: ['d'], offsets: [3n] });
    engine.release();
    expect((await Promise.all(behind)).map((stored) => stored.messageId.offset)).toEqual([1n, 2n, 3n]);
    expect(host.commits.map((c) => c.first)).toEqual([1n, 3n]);
    expect(owner.settled).toBe(4);
  });

  it('refuses a record the engine cannot add and writes the rest of its batch without a gap', async () => {
    const { engine, writer } = setup();
    engine.refuse.add('bad');
    const owner = new Owner(1n);
    const [a, bad, c] = ['a', 'bad', 'c'].map((t) => writer.append(owner, t, msg(t), 1));
    expect(await bad!.then(() => undefined, (e: unknown) => (e as Error).message)).toBe('cannot store bad');
    await waitFor(() => engine.inFlight === 1);
    expect(engine.started[0]?.discarded).toBe(true);
    expect(engine.batches[0]).toMatchObject({ firstOffset: 1n, records: ['a', 'c'], offsets: [1n, 2n] });
    engine.release();
    expect([(await a!).messageId.offset, (await c!).messageId.offset]).toEqual([1n, 2n]);
    expect(owner.settled).toBe(3);
  });

  it('puts a synchronous burst into one batch', async () => {
    const { engine, writer } = setup();
    const owner = new Owner(1n);
    const all = Array.from({ length: 50 }, (_, i) => writer.append(owner, String(i), msg(String(i)), 1));
    await waitFor(() => engine.inFlight === 1);
    expect(engine.batches[0]?.records).toHaveLength(50);
    engine.release();
    await Promise.all(all);
  });

  it('caps batches by message count and by bytes', async () => {
    const { engine, writer } = setup({ maxBatchMessages: 4, maxBatchBytes: 1 << 20 });
    const owner = new Owner(1n);
    const all = Array.from({ length: 10 }, (_, i) => writer.append(owner, String(i), msg(String(i)), 1));
    for (const expected of [4, 4, 2]) {
      await waitFor(() => engine.inFlight === 1);
      expect(engine.batches.at(-1)?.records).toHaveLength(expected);
      engine.release();
    }
    await Promise.all(all);

    const bytes = setup({ maxBatchBytes: 10 });
    const big = ['x'.repeat(6), 'y'.repeat(6), 'z'.repeat(20)].map((t) => bytes.writer.append(owner, t, msg(t), t.length));
    for (const expected of [2, 1]) {
      await waitFor(() => bytes.engine.inFlight === 1);
      expect(bytes.engine.batches.at(-1)?.records).toHaveLength(expected);
      bytes.engine.release();
    }
    await Promise.all(big);
  });

  it('refuses queued requests of a fenced owner when their batch is built, even if queued before the fence', async () => {
    const { engine, host, writer } = setup();
    const old = new Owner(1n);
    const inFlight = writer.append(old, 'landed', msg('landed'), 1);
    await waitFor(() => engine.inFlight === 1);
    const queued = [writer.append(old, 'late', msg('late'), 1), writer.writeMeta(old, 'checkpoint', () => Buffer.from('cp'))];
    host.term = 2n; // a higher term opened the pchannel
    const fresh = new Owner(2n);
    const next = writer.append(fresh, 'new', msg('new'), 1);
    engine.release();
    expect((await inFlight).messageId.offset).toBe(1n);
    for (const p of queued) {
      const error = await p.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StreamingError);
      expect((error as StreamingError).code).toBe(StreamingCode.CHANNEL_FENCED);
    }
    await waitFor(() => engine.inFlight === 1);
    // 'late' had joined the batch being built; that batch was rebuilt without it.
    expect(engine.started[1]?.discarded).toBe(true);
    expect(engine.batches[1]?.records).toEqual(['new']);
    engine.release();
    expect((await next).messageId.offset).toBe(2n);
    expect(old.settled).toBe(3);
  });

  it('fails the whole batch on a storage error and hands its offsets to the next batch', async () => {
    const { engine, host, writer } = setup();
    const owner = new Owner(1n);
    const failed = [writer.append(owner, 'a', msg('a'), 1), writer.append(owner, 'b', msg('b'), 1)];
    await waitFor(() => engine.inFlight === 1);
    engine.release(new Error('disk on fire'));
    for (const p of failed) {
      const error = await p.then(() => undefined, (e: unknown) => e);
      expect((error as StreamingError).code).toBe(StreamingCode.INNER);
      expect((error as StreamingError).message).toContain('disk on fire');
    }
    expect(host.commits).toHaveLength(0);
    const next = writer.append(owner, 'c', msg('c'), 1);
    await waitFor(() => engine.inFlight === 1);
    engine.release();
    expect((await next).messageId.offset).toBe(1n);
    expect(owner.settled).toBe(3);
  });

  it('syncs batches carrying meta values even when appends are not synced, and reads meta values at build time', async () => {
    const { engine, writer } = setup({ sync: false });
    const owner = new Owner(1n);
    const a = writer.append(owner, 'a', msg('a'), 1);
    await waitFor(() => engine.inFlight === 1);
    expect(engine.batches[0]?.sync).toBe(false);
    let value = 'early';
    const meta = writer.writeMeta(undefined, 'term', () => Buffer.from(value));
    value = 'late';
    engine.release();
    await a;
    await waitFor(() => engine.inFlight === 1);
    expect(engine.batches[1]?.sync).toBe(true);
    expect(engine.batches[1]?.meta.map(([k, v]) => [k, v.toString()])).toEqual([['term', 'late']]);
    engine.release();
    await meta;
  });

  it('reports committed messages with their ids before resolving, and idle() waits for the queue', async () => {
    const { engine, host, writer } = setup();
    const owner = new Owner(1n);
    const ids: MessageId[] = [];
    const all = ['a', 'b'].map((t, i) =>
      writer.append(owner, t, msg(t), 1).then((stored) => {
        expect(host.commits.length).toBeGreaterThan(0);
        // Appenders get the very object readers get from the tail: one stored message, not two.
        expect(stored).toBe(host.commits[0]?.messages[i]);
        ids.push(stored.messageId);
      }),
    );
    const idle = writer.idle();
    let idleDone = false;
    void idle.then(() => (idleDone = true));
    await waitFor(() => engine.inFlight === 1);
    expect(idleDone).toBe(false);
    engine.release();
    await idle;
    await Promise.all(all);
    expect(host.commits[0]?.messages.map((m) => [m.messageId.offset, m.payload.toString()])).toEqual([
      [1n, 'a'],
      [2n, 'b'],
    ]);
    expect(writer.nextOffset).toBe(3n);
  });

  describe('owners that append again from requestSettled (re-entrant)', () => {
    /** Releases every write until `done` settles; fails if it never does. */
    async function drive(engine: GatedEngine, done: Promise<unknown>): Promise<void> {
      let settled = false;
      void done.finally(() => (settled = true));
      await waitFor(async () => {
        while (engine.inFlight > 0) engine.release();
        await new Promise<void>((resolve) => setImmediate(resolve));
        return settled;
      });
    }
    const offsetOrError = (p: Promise<ImmutableMessage>) =>
      p.then((stored) => stored.messageId.offset, (e: unknown) => (e instanceof StreamingError ? e.code : String(e)));

    it('after a failed write: the retry joins behind the rebuilt batches, offsets stay contiguous', async () => {
      const { engine, host, writer } = setup({ maxBatchMessages: 2 });
      const others = new Owner(1n);
      let retry: Promise<ImmutableMessage> | undefined;
      class Retrying extends Owner {
        override requestSettled(): void {
          super.requestSettled();
          retry ??= writer.append(others, 'z', msg('z'), 1);
        }
      }
      const failed = writer.append(new Retrying(1n), 'a', msg('a'), 1);
      await waitFor(() => engine.inFlight === 1);
      // A full batch [b, c] waits behind the write: ready to go early, at offsets 2 and 3.
      const behind = ['b', 'c', 'd'].map((t) => writer.append(others, t, msg(t), 1));
      engine.release(new Error('disk on fire'));
      expect(await offsetOrError(failed)).toBe(StreamingCode.INNER);
      expect(retry).toBeDefined();
      await drive(engine, Promise.allSettled([...behind, retry!]));
      expect(await Promise.all([...behind, retry!].map(offsetOrError))).toEqual([1n, 2n, 3n, 4n]);
      expect(engine.batches.slice(1).map((b) => [b.firstOffset, b.records])).toEqual([
        [1n, ['b', 'c']],
        [3n, ['d', 'z']],
      ]);
      expect(host.commits.map((c) => c.first)).toEqual([1n, 3n]);
      expect(writer.nextOffset).toBe(5n);
    });

    it('while fenced requests are refused: every request settles, no offset is used twice', async () => {
      const { engine, host, writer } = setup({ maxBatchMessages: 2 });
      const fresh = new Owner(2n);
      const retries: Promise<ImmutableMessage>[] = [];
      class Retrying extends Owner {
        override requestSettled(): void {
          super.requestSettled();
          if (retries.length === 0) retries.push(writer.append(fresh, 'r1', msg('r1'), 1), writer.append(fresh, 'r2', msg('r2'), 1));
        }
      }
      const first = writer.append(fresh, 'f0', msg('f0'), 1);
      await waitFor(() => engine.inFlight === 1);
      const fenced = writer.append(new Retrying(1n), 'o1', msg('o1'), 1);
      const rest = ['f1', 'f2', 'f3'].map((t) => writer.append(fresh, t, msg(t), 1));
      host.term = 2n;
      engine.release();
      await first;
      await drive(engine, Promise.allSettled([fenced, ...rest]).then(() => Promise.allSettled(retries)));
      expect(await offsetOrError(fenced)).toBe(StreamingCode.CHANNEL_FENCED);
      const offsets = await Promise.all([...rest, ...retries].map(offsetOrError));
      expect([...offsets].sort()).toEqual([2n, 3n, 4n, 5n, 6n]);
      const written = engine.batches.flatMap((b) => b.offsets);
      expect(written).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
      expect(writer.nextOffset).toBe(7n);
      expect(fresh.settled).toBe(fresh.queued);
    });
  });
});
