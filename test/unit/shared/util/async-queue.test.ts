import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamingError } from '../../../../shared/errors/index.js';
import { AsyncQueue } from '../../../../shared/util/index.js';

/** Lets every pending promise callback run (one macrotask turn). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(p: Promise<T>): { done: () => boolean; error: () => unknown } {
  let done = false;
  let error: unknown;
  p.then(
    () => (done = true),
    (e: unknown) => {
      done = true;
      error = e;
    },
  );
  return { done: () => done, error: () => error };
}

describe('AsyncQueue', () => {
  it('rejects a capacity below 1 or fractional', () => {
    expect(() => new AsyncQueue({ capacity: 0 })).toThrow(RangeError);
    expect(() => new AsyncQueue({ capacity: 1.5 })).toThrow(RangeError);
  });

  it('applies backpressure: push waits while full and resumes as items are taken', async () => {
    const q = new AsyncQueue<number>({ capacity: 2 });
    await q.push(1);
    await q.push(2);
    const third = track(q.push(3));
    const fourth = track(q.push(4));
    await settle();
    expect(third.done()).toBe(false);
    expect(q.size).toBe(2);
    expect(q.pendingPushes).toBe(2);

    expect(await q.next()).toEqual({ value: 1, done: false });
    await settle();
    expect(third.done()).toBe(true);
    expect(fourth.done()).toBe(false);
    expect(q.size).toBe(2);

    const out = [(await q.next()).value, (await q.next()).value, (await q.next()).value];
    expect(out).toEqual([2, 3, 4]);
    await settle();
    expect(fourth.done()).toBe(true);
    expect(q.size).toBe(0);
  });

  it('tryPush accepts while there is room and returns false when full', () => {
    const q = new AsyncQueue<string>({ capacity: 1 });
    expect(q.tryPush('a')).toBe(true);
    expect(q.tryPush('b')).toBe(false);
    expect(q.size).toBe(1);
  });

  it('hands an item straight to a waiting consumer', async () => {
    const q = new AsyncQueue<string>({ capacity: 1 });
    const taking = q.next();
    await settle();
    expect(q.waitingConsumers).toBe(1);
    expect(q.tryPush('x')).toBe(true);
    expect(await taking).toEqual({ value: 'x', done: false });
    expect(q.size).toBe(0);
  });

  it('serves concurrent consumers in call order, each item once', async () => {
    const q = new AsyncQueue<number>({ capacity: 4 });
    const a = q.next();
    const b = q.next();
    await q.push(1);
    await q.push(2);
    expect([(await a).value, (await b).value]).toEqual([1, 2]);
  });

  it('an aborted waiting push enqueues nothing and rejects with the reason', async () => {
    const q = new AsyncQueue<number>({ capacity: 1 });
    await q.push(1);
    const ac = new AbortController();
    const aborted = q.push(2, { signal: ac.signal });
    const later = q.push(3);
    const reason = StreamingError.onShutdown('producer gone');
    ac.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(q.pendingPushes).toBe(1);
    expect((await q.next()).value).toBe(1);
    await later;
    expect((await q.next()).value).toBe(3);
    expect(q.size).toBe(0);
  });

  it('push with an already aborted signal rejects without enqueueing', async () => {
    const q = new AsyncQueue<number>({ capacity: 1 });
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(q.push(1, { signal: ac.signal })).rejects.toThrow('gone');
    expect(q.size).toBe(0);
  });

  it('close(): drains buffered items, then done; waiting and later pushes fail with ON_SHUTDOWN', async () => {
    const q = new AsyncQueue<number>({ capacity: 2 });
    await q.push(1);
    await q.push(2);
    const blocked = q.push(3);
    expect(q.close()).toBe(true);
    expect(q.close()).toBe(false);
    expect(q.state).toBe('closed');
    await expect(blocked).rejects.toSatisfy((e) => e instanceof StreamingError && e.isOnShutdown());
    await expect(q.push(4)).rejects.toSatisfy((e) => e instanceof StreamingError && e.isOnShutdown());
    expect(() => q.tryPush(5)).toThrow(StreamingError);
    const seen: number[] = [];
    for await (const v of q) seen.push(v);
    expect(seen).toEqual([1, 2]);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('close() ends a consumer that is waiting', async () => {
    const q = new AsyncQueue<number>({ capacity: 1 });
    const waiting = q.next();
    q.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('fail(): drops buffered items; every next() rejects with the error, and pushes too', async () => {
    const q = new AsyncQueue<number>({ capacity: 1 });
    await q.push(1);
    const blocked = q.push(2);
    const boom = new Error('boom');
    expect(q.fail(boom)).toBe(true);
    expect(q.fail(new Error('second'))).toBe(false);
    expect(q.close()).toBe(false);
    expect(q.state).toBe('failed');
    expect(q.size).toBe(0);
    await expect(blocked).rejects.toBe(boom);
    await expect(q.next()).rejects.toBe(boom);
    await expect(q.next()).rejects.toBe(boom);
    await expect(q.push(3)).rejects.toBe(boom);
    expect(() => q.tryPush(3)).toThrow(boom);
  });

  it('fail() rejects a consumer that is waiting, and for-await throws', async () => {
    const q = new AsyncQueue<number>({ capacity: 1 });
    const waiting = q.next();
    const boom = StreamingError.channelFenced('ch');
    q.fail(boom);
    await expect(waiting).rejects.toBe(boom);
    await expect(
      (async () => {
        for await (const _ of q) void _;
      })(),
    ).rejects.toBe(boom);
  });

  it('leaving for-await early closes the queue and releases blocked producers', async () => {
    const q = new AsyncQueue<number>({ capacity: 1 });
    await q.push(1);
    const accepted = q.push(2); // moves into the slot freed by taking 1
    const blocked = q.push(3);
    for await (const v of q) {
      expect(v).toBe(1);
      break;
    }
    await accepted;
    expect(q.state).toBe('closed');
    expect(q.size).toBe(0); // item 2 was dropped: nobody will read it
    await expect(blocked).rejects.toSatisfy((e) => e instanceof StreamingError && e.isOnShutdown());
    await expect(q.push(3)).rejects.toBeInstanceOf(StreamingError);
  });

  it('keeps FIFO order and never buffers more than capacity (model check with tryPush)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.oneof(fc.record({ op: fc.constant('push' as const), value: fc.integer() }), fc.constant({ op: 'take' as const })), {
          maxLength: 60,
        }),
        async (capacity, ops) => {
          const q = new AsyncQueue<number>({ capacity });
          const model: number[] = [];
          for (const o of ops) {
            if (o.op === 'push') {
              const accepted = q.tryPush(o.value);
              expect(accepted).toBe(model.length < capacity);
              if (accepted) model.push(o.value);
            } else if (model.length > 0) {
              expect(await q.next()).toEqual({ value: model.shift(), done: false });
            }
            expect(q.size).toBe(model.length);
            expect(q.size).toBeLessThanOrEqual(capacity);
          }
        },
      ),
    );
  });

  it('delivers everything in order between a blocking producer and a slow consumer (any interleaving)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer(), { maxLength: 40 }),
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 10 }),
        async (capacity, items, yields) => {
          const q = new AsyncQueue<number>({ capacity });
          let maxSize = 0;
          const producer = (async () => {
            for (const item of items) {
              await q.push(item);
              maxSize = Math.max(maxSize, q.size);
            }
            q.close();
          })();
          const seen: number[] = [];
          let i = 0;
          for await (const v of q) {
            seen.push(v);
            for (let y = 0; y < (yields[i++ % yields.length] ?? 0); y++) await Promise.resolve();
          }
          await producer;
          expect(seen).toEqual(items);
          expect(maxSize).toBeLessThanOrEqual(capacity);
        },
      ),
    );
  });

  it('stays O(1) per operation over many items (no quadratic shifting)', async () => {
    const q = new AsyncQueue<number>({ capacity: 100_000 });
    const n = 100_000;
    for (let i = 0; i < n; i++) q.tryPush(i);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (await q.next()).value ?? 0;
    expect(sum).toBe((n * (n - 1)) / 2);
  });
});
