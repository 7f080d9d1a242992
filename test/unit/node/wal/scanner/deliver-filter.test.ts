import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../../shared/errors/index.js';
import { type DeliverFilter, filterMessageTypes, MessageId, MessageType, newUserMessage } from '../../../../../shared/message/index.js';
import { compileDeliverFilters, ScanPipeline } from '../../../../../node/wal/scanner/index.js';
import { noopLogger } from '../../../../../shared/log/index.js';
import { begin, commit, insert, PCHANNEL, rollback, tick, txn } from '../utility/fixtures.js';
import { describeScanned } from './scanner-fixtures.js';

const gt = (timeTick: bigint): DeliverFilter => ({ kind: 'timeTickGt', timeTick });
const gte = (timeTick: bigint): DeliverFilter => ({ kind: 'timeTickGte', timeTick });

describe('compileDeliverFilters', () => {
  it('keeps everything without filters', () => {
    const keep = compileDeliverFilters();
    expect(keep(insert(1, 1))).toBe(true);
    expect(keep(tick(2, 2))).toBe(true);
  });

  it('judges non-txn messages and time ticks by time tick (gt exclusive, gte inclusive)', () => {
    const keepGt = compileDeliverFilters([gt(10n)]);
    const keepGte = compileDeliverFilters([gte(10n)]);
    expect([9, 10, 11].map((tt) => keepGt(insert(tt, tt)))).toEqual([false, false, true]);
    expect([9, 10, 11].map((tt) => keepGte(insert(tt, tt)))).toEqual([false, true, true]);
    expect(keepGt(tick(1, 10))).toBe(false);
    expect(keepGte(tick(1, 10))).toBe(true);
  });

  it('judges a transaction by its commit: begin and bodies below the tick pass, the commit decides', () => {
    const t = txn(7, 60_000);
    const keep = compileDeliverFilters([gt(10n)]);
    expect(keep(begin(1, 2, t))).toBe(true);
    expect(keep(insert(2, 3, t))).toBe(true);
    expect(keep(rollback(3, 4, t))).toBe(true);
    expect(keep(commit(4, 10, t))).toBe(false);
    expect(keep(commit(4, 11, t))).toBe(true);
  });

  it('filters by message type but never drops system messages', () => {
    const t = txn(7, 60_000);
    const keep = compileDeliverFilters([filterMessageTypes([MessageType.Delete])]);
    expect(keep(insert(1, 1))).toBe(false);
    expect(keep(insert(2, 2, t))).toBe(false);
    for (const system of [tick(3, 3), begin(4, 4, t), commit(5, 5, t), rollback(6, 6, t)]) expect(keep(system)).toBe(true);
  });

  it('AND-combines filters', () => {
    const keep = compileDeliverFilters([gte(5n), gt(6n), filterMessageTypes([MessageType.Insert])]);
    expect([5, 6, 7].map((tt) => keep(insert(tt, tt)))).toEqual([false, false, true]);
  });

  it('refuses a system type in a type filter and an unknown filter kind', () => {
    const bad = { kind: 'messageType', types: [MessageType.TimeTick] } as DeliverFilter;
    expect(() => compileDeliverFilters([bad])).toThrow(expect.objectContaining({ code: StreamingCode.INVAILD_ARGUMENT }));
    const unknown = { kind: 'vchannel' } as unknown as DeliverFilter;
    expect(() => compileDeliverFilters([unknown])).toThrow(/unknown filter/);
  });
});

describe('ScanPipeline', () => {
  const pipeline = (vchannel?: string): ScanPipeline => new ScanPipeline({ logger: noopLogger, ...(vchannel ? { vchannel } : {}) });

  it('releases data at the watermark in time tick order, then the tick', () => {
    const p = pipeline();
    expect(p.handle(insert(1, 30), 0)).toEqual([]);
    expect(p.handle(insert(2, 10), 0)).toEqual([]);
    expect(p.handle(insert(3, 50), 0)).toEqual([]);
    expect(p.handle(tick(4, 40), 0).map(describeScanned)).toEqual(['msg:2', 'msg:1', 'tick:40']);
    expect(p.stats.reorderBuffered).toBe(1);
  });

  it('delivers a not-persisted tick only when nothing else is pending or released', () => {
    const p = pipeline();
    expect(p.handle(tick(1, 5, false), 3)).toEqual([]);
    expect(p.handle(tick(1, 6, false), 0).map(describeScanned)).toEqual(['tick:6']);
    p.handle(insert(2, 7), 0);
    expect(p.handle(tick(2, 8, false), 0).map(describeScanned)).toEqual(['msg:2']);
    expect(p.handle(tick(3, 9, true), 5).map(describeScanned)).toEqual(['tick:9']);
  });

  it('drops duplicates and messages below the watermark, counting them', () => {
    const p = pipeline();
    p.handle(insert(1, 10), 0);
    p.handle(insert(1, 10), 0);
    p.handle(tick(2, 20), 0);
    p.handle(insert(3, 15), 0);
    expect(p.stats).toMatchObject({ duplicatesDropped: 1, violationsDropped: 1, reorderBuffered: 0 });
  });

  it('keeps only its vchannel plus messages without one', () => {
    const [va, vb] = [`${PCHANNEL}_1v0`, `${PCHANNEL}_2v0`];
    const everyVChannel = newUserMessage({ type: MessageType.Insert, payload: Buffer.from('all') })
      .withTimeTick(3n)
      .withLastConfirmedUseMessageId()
      .intoImmutable(MessageId.of(3));
    const feed = (p: ScanPipeline): string[] => {
      p.handle(insert(1, 1, undefined, { vchannel: va }), 0);
      p.handle(insert(2, 2, undefined, { vchannel: vb }), 0);
      p.handle(everyVChannel, 0);
      return p.handle(tick(4, 4), 0).map(describeScanned);
    };
    expect(feed(pipeline(va))).toEqual(['msg:1', 'msg:3', 'tick:4']);
    expect(feed(pipeline(vb))).toEqual(['msg:2', 'msg:3', 'tick:4']);
    expect(feed(pipeline())).toEqual(['msg:1', 'msg:2', 'msg:3', 'tick:4']);
  });
});
