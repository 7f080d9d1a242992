import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../../shared/errors/index.js';
import type { ImmutableMessage } from '../../../../../shared/message/index.js';
import { ReorderByTimeTickBuffer } from '../../../../../node/wal/utility/index.js';
import { insert } from './fixtures.js';

const ticks = (messages: readonly ImmutableMessage[]): bigint[] => messages.map((m) => m.timeTick);

describe('ReorderByTimeTickBuffer', () => {
  it('releases only what the watermark covers, ascending (Go TestReOrderByTimeTickBuffer)', () => {
    const buffer = new ReorderByTimeTickBuffer();
    // Time ticks 1..25 pushed in a scrambled order, ids in push order.
    const order = [13, 2, 25, 7, 1, 19, 10, 4, 22, 16, 5, 11, 24, 3, 8, 20, 14, 6, 23, 9, 17, 12, 21, 15, 18];
    order.forEach((tt, i) => {
      expect(buffer.push(insert(i, tt)).accepted).toBe(true);
      expect(buffer.length).toBe(i + 1);
    });

    expect(buffer.popUntilTimeTick(0n)).toEqual([]);
    expect(ticks(buffer.popUntilTimeTick(1n))).toEqual([1n]);
    expect(ticks(buffer.popUntilTimeTick(10n))).toEqual([2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
    const rest = buffer.popUntilTimeTick(25n);
    expect(rest).toHaveLength(15);
    expect(ticks(rest)).toEqual(Array.from({ length: 15 }, (_, i) => BigInt(i + 11)));
    expect(buffer.length).toBe(0);
    expect(buffer.bytes).toBe(0);
  });

  it('breaks time tick ties by message id', () => {
    const buffer = new ReorderByTimeTickBuffer();
    buffer.push(insert(9, 5));
    buffer.push(insert(3, 5));
    buffer.push(insert(6, 4));
    expect(buffer.popUntilTimeTick(5n).map((m) => m.messageId.offset)).toEqual([6n, 3n, 9n]);
  });

  it('drops a message below the last watermark as a time tick violation', () => {
    const buffer = new ReorderByTimeTickBuffer();
    buffer.popUntilTimeTick(10n);
    const result = buffer.push(insert(1, 9));
    expect(result.accepted).toBe(false);
    if (result.accepted) return;
    expect(result.reason).toBe('time-tick-violation');
    expect(result.error.code).toBe(StreamingCode.INNER);
    expect(buffer.length).toBe(0);
    // At the watermark itself is still in order.
    expect(buffer.push(insert(2, 10)).accepted).toBe(true);
  });

  it('drops a message whose id is buffered, or was just released at the watermark', () => {
    const buffer = new ReorderByTimeTickBuffer();
    expect(buffer.push(insert(1, 7)).accepted).toBe(true);
    const again = buffer.push(insert(1, 7));
    expect(again).toMatchObject({ accepted: false, reason: 'duplicate' });
    expect(buffer.length).toBe(1);

    // Released at watermark 7: a late copy of it (same tick 7) must not come out again.
    expect(buffer.popUntilTimeTick(7n)).toHaveLength(1);
    expect(buffer.push(insert(1, 7))).toMatchObject({ accepted: false, reason: 'duplicate' });
    // Once the watermark moves on, the copy is caught by the violation rule instead.
    buffer.popUntilTimeTick(8n);
    expect(buffer.push(insert(1, 7))).toMatchObject({ accepted: false, reason: 'time-tick-violation' });
  });

  it('never lowers the watermark', () => {
    const buffer = new ReorderByTimeTickBuffer();
    buffer.popUntilTimeTick(10n);
    buffer.popUntilTimeTick(5n);
    expect(buffer.lastPopTimeTick).toBe(10n);
    expect(buffer.push(insert(1, 6)).accepted).toBe(false);
  });

  it('reports full at its bounds without refusing input', () => {
    const byCount = new ReorderByTimeTickBuffer({ maxMessages: 2 });
    byCount.push(insert(1, 1));
    expect(byCount.full).toBe(false);
    byCount.push(insert(2, 2));
    expect(byCount.full).toBe(true);
    expect(byCount.push(insert(3, 3)).accepted).toBe(true);
    byCount.popUntilTimeTick(2n);
    expect(byCount.full).toBe(false);

    const m = insert(1, 1);
    const byBytes = new ReorderByTimeTickBuffer({ maxBytes: m.estimateSize() * 2 });
    byBytes.push(m);
    expect(byBytes.full).toBe(false);
    byBytes.push(insert(2, 2));
    expect(byBytes.full).toBe(true);
    expect(byBytes.bytes).toBe(m.estimateSize() + insert(2, 2).estimateSize());

    expect(() => new ReorderByTimeTickBuffer({ maxMessages: 0 })).toThrow(RangeError);
  });

  it('property: emits in non-decreasing time tick order, never a duplicate id, everything accepted', () => {
    // A stream of distinct messages (id i, random tick) delivered with repeats (as when the
    // scanner switches between WAL and write-ahead buffer), interleaved with rising watermarks.
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), index: fc.nat(39) }),
      fc.record({ kind: fc.constant('pop' as const), step: fc.nat(30) }),
      // A watermark exactly at some message's tick, where a late copy is the hardest to catch.
      fc.record({ kind: fc.constant('popAt' as const), index: fc.nat(39) }),
    );
    fc.assert(
      fc.property(fc.array(fc.nat(200), { minLength: 1, maxLength: 40 }), fc.array(op, { maxLength: 120, size: 'max' }), (tts, ops) => {
        const messages = tts.map((tt, i) => insert(i, tt + 1));
        const buffer = new ReorderByTimeTickBuffer();
        const emitted: ImmutableMessage[] = [];
        const accepted = new Set<bigint>();
        let watermark = 0n;
        for (const o of ops) {
          if (o.kind === 'push') {
            const m = messages[o.index % messages.length] as ImmutableMessage;
            if (buffer.push(m).accepted) accepted.add(m.messageId.offset);
          } else {
            if (o.kind === 'pop') watermark += BigInt(o.step);
            else watermark = [watermark, (messages[o.index % messages.length] as ImmutableMessage).timeTick].reduce((a, b) => (a > b ? a : b));
            const out = buffer.popUntilTimeTick(watermark);
            for (const m of out) expect(m.timeTick).toBeLessThanOrEqual(watermark);
            emitted.push(...out);
          }
        }
        emitted.push(...buffer.popUntilTimeTick(watermark + 1000n));
        for (let i = 1; i < emitted.length; i++) {
          expect((emitted[i] as ImmutableMessage).timeTick).toBeGreaterThanOrEqual((emitted[i - 1] as ImmutableMessage).timeTick);
        }
        const ids = emitted.map((m) => m.messageId.offset);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(accepted);
        expect(buffer.length).toBe(0);
      }),
    );
  });

  it('property: accepts, refuses and releases exactly like a plain id-set model', () => {
    // Mostly fresh messages in id order (catch-up, where no id index is kept) with copies of
    // earlier ones mixed in (switches; the index is built then and dropped once the buffer
    // empties), so every path of the duplicate check is compared against the obvious model.
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('fresh' as const) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('copy' as const), back: fc.nat(30) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('pop' as const), step: fc.nat(20) }) },
    );
    fc.assert(
      // With a byte bound the buffer keeps a running byte total, without one it sums on demand.
      fc.property(fc.array(fc.nat(100), { minLength: 1, maxLength: 60 }), fc.array(op, { maxLength: 200 }), fc.boolean(), (tts, ops, bounded) => {
        const messages = tts.map((tt, i) => insert(i, tt + 1));
        const buffer = new ReorderByTimeTickBuffer(bounded ? { maxBytes: 1 << 30 } : {});
        const model = { buffered: new Map<bigint, ImmutableMessage>(), released: new Set<bigint>(), watermark: 0n };
        let next = 0;
        let watermark = 0n;
        for (const o of ops) {
          if (o.kind === 'pop') {
            watermark += BigInt(o.step);
            const expected = popModel(model, watermark).map((m) => m.messageId.offset);
            expect(buffer.popUntilTimeTick(watermark).map((m) => m.messageId.offset)).toEqual(expected);
          } else {
            if (o.kind === 'fresh' && next >= messages.length) continue;
            const index = o.kind === 'fresh' ? next++ : Math.max(0, next - 1 - o.back);
            const m = messages[index] as ImmutableMessage;
            const result = buffer.push(m);
            const expected = pushModel(model, m);
            expect(result.accepted ? 'accepted' : result.reason).toBe(expected);
          }
          expect(buffer.length).toBe(model.buffered.size);
          expect(buffer.bytes).toBe([...model.buffered.values()].reduce((sum, m) => sum + m.estimateSize(), 0));
        }
      }),
    );
  });
});

interface ReorderModel {
  readonly buffered: Map<bigint, ImmutableMessage>;
  readonly released: Set<bigint>;
  watermark: bigint;
}

function pushModel(model: ReorderModel, m: ImmutableMessage): 'accepted' | 'time-tick-violation' | 'duplicate' {
  if (m.timeTick < model.watermark) return 'time-tick-violation';
  const id = m.messageId.offset;
  if (model.buffered.has(id) || model.released.has(id)) return 'duplicate';
  model.buffered.set(id, m);
  return 'accepted';
}

function popModel(model: ReorderModel, timeTick: bigint): ImmutableMessage[] {
  if (timeTick > model.watermark) {
    model.watermark = timeTick;
    model.released.clear();
  }
  const out = [...model.buffered.values()]
    .filter((m) => m.timeTick <= timeTick)
    .sort((a, b) => (a.timeTick !== b.timeTick ? (a.timeTick < b.timeTick ? -1 : 1) : a.messageId.compare(b.messageId)));
  for (const m of out) {
    model.buffered.delete(m.messageId.offset);
    if (m.timeTick === model.watermark) model.released.add(m.messageId.offset);
  }
  return out;
}
