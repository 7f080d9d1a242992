/**
 * Property: whatever the interleaving of appends (several vchannels, raced appends, transactions
 * committed, rolled back or abandoned), time ticks (persisted or not), reader stalls and the
 * write-ahead buffer evictions they cause, every reader delivers exactly the committed sequence of
 * its vchannel, in time tick order, each message once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliverAll, deliverLatest, MessageId, type TxnContext } from '../../../../../shared/message/index.js';
import { createWalScanner, type WalScannerAdaptor } from '../../../../../node/wal/scanner/index.js';
import { insertMessage } from './fake-wal-writer.js';
import { CollectingReader, expectedFor, expectTimeTickOrder, type FakeWalEnv, openFakeWal, vchannelsOf } from './scanner-fixtures.js';

type Command =
  | { readonly kind: 'insert'; readonly v: number }
  | { readonly kind: 'race'; readonly v: number; readonly w: number }
  | { readonly kind: 'begin'; readonly v: number }
  | { readonly kind: 'body' | 'commit' | 'rollback'; readonly pick: number }
  | { readonly kind: 'tick'; readonly persisted: boolean }
  | { readonly kind: 'stall' | 'resume'; readonly reader: number }
  | { readonly kind: 'grant'; readonly reader: number; readonly n: number }
  | { readonly kind: 'lateReader'; readonly latest: boolean };

const VCHANNELS = 3;
/** Vchannel index VCHANNELS means "no vchannel" (every vchannel). */
const vIndex = fc.integer({ min: 0, max: VCHANNELS });
const readerIndex = fc.integer({ min: 0, max: VCHANNELS });

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('insert' as const), v: vIndex }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('race' as const), v: vIndex, w: vIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('begin' as const), v: fc.integer({ min: 0, max: VCHANNELS - 1 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('body' as const, 'commit' as const, 'rollback' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('tick' as const), persisted: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('stall' as const, 'resume' as const), reader: readerIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('grant' as const), reader: readerIndex, n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lateReader' as const), latest: fc.boolean() }) },
);

interface Reader {
  readonly scanner: WalScannerAdaptor;
  readonly reader: CollectingReader;
  readonly vchannel: string | undefined;
  readonly from?: MessageId;
}

class Scenario {
  readonly readers: Reader[] = [];
  readonly #env: FakeWalEnv;
  readonly #vchannels: string[];
  readonly #open: { txn: TxnContext; vchannel: string }[] = [];

  constructor(env: FakeWalEnv) {
    this.#env = env;
    this.#vchannels = vchannelsOf(env.pchannel, VCHANNELS);
    // One reader per vchannel and one for all of them, from the start.
    for (let i = 0; i <= VCHANNELS; i++) this.#addReader(this.#vchannels[i], false);
  }

  async run(c: Command): Promise<void> {
    const w = this.#env.writer;
    const v = (i: number): string | undefined => this.#vchannels[i];
    switch (c.kind) {
      case 'insert':
        await w.insert(v(c.v), `i`);
        return;
      case 'race': {
        const first = w.stamp(insertMessage(v(c.v), 'r1'));
        const second = w.stamp(insertMessage(v(c.w), 'r2'));
        const ticked = w.tick();
        await w.write(second);
        await w.write(first);
        await ticked;
        return;
      }
      case 'begin': {
        const vchannel = v(c.v) as string;
        this.#open.push({ txn: await w.begin(vchannel), vchannel });
        return;
      }
      case 'body':
      case 'commit':
      case 'rollback':
        return this.#txnStep(c.kind, c.pick);
      case 'tick':
        await w.tick({ persisted: c.persisted });
        return;
      case 'stall':
        this.readers[c.reader]?.reader.pause();
        return;
      case 'resume':
        this.readers[c.reader]?.reader.resume();
        return;
      case 'grant':
        this.readers[c.reader]?.reader.grant(c.n);
        return;
      case 'lateReader':
        if (this.readers.length <= VCHANNELS + 1) this.#addReader(undefined, c.latest);
        return;
    }
  }

  async #txnStep(kind: 'body' | 'commit' | 'rollback', pick: number): Promise<void> {
    if (this.#open.length === 0) return;
    const index = pick % this.#open.length;
    const { txn, vchannel } = this.#open[index] as { txn: TxnContext; vchannel: string };
    const w = this.#env.writer;
    if (kind === 'body') {
      await w.insert(vchannel, 'body', txn);
      return;
    }
    this.#open.splice(index, 1);
    if (kind === 'commit') await w.commit(txn, vchannel);
    else await w.rollback(txn, vchannel);
  }

  #addReader(vchannel: string | undefined, latest: boolean): void {
    const newest = this.#env.backend.latestMessageId();
    const scanner = createWalScanner(
      this.#env.source(),
      { deliverPolicy: latest ? deliverLatest() : deliverAll(), ...(vchannel !== undefined ? { vchannel } : {}) },
      { readAheadBufferSize: 8, pendingThreshold: 4 },
    );
    const reader = new CollectingReader(scanner);
    const from = latest ? MessageId.of((newest?.offset ?? -1n) + 1n) : undefined;
    this.readers.push({ scanner, reader, vchannel, ...(from !== undefined ? { from } : {}) });
  }
}

describe('WAL scanner property', () => {
  it('every reader sees exactly the committed sequence of its vchannel, in order, once', async () => {
    const seen = { fallbacks: 0, duplicates: 0, txns: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 150, size: 'max' }), fc.constantFrom(1_000, 3_000, 1 << 20), async (commands, capacity) => {
        const env = await openFakeWal({ wabCapacityBytes: capacity });
        const scenario = new Scenario(env);
        try {
          for (const c of commands) await scenario.run(c);
          const last = await env.writer.tick({ persisted: true });
          const lastTick = (last ?? env.writer.lastTick).timeTick;
          for (const { scanner, reader, vchannel, from } of scenario.readers) {
            reader.resume();
            await reader.untilTick(lastTick, 5_000);
            expect(reader.error).toBeUndefined();
            expectTimeTickOrder(reader.items);
            expect(reader.data()).toEqual(expectedFor(env.writer.records, { vchannel, ...(from !== undefined ? { from } : {}) }));
            expect(scanner.stats.violationsDropped).toBe(0);
            seen.fallbacks += scanner.stats.switchesToCatchup;
            seen.duplicates += scanner.stats.duplicatesDropped;
            seen.txns += reader.data().filter((d) => d.startsWith('txn:')).length;
          }
        } finally {
          await Promise.all(scenario.readers.map(({ scanner }) => scanner.close()));
          await env.close();
        }
      }),
      { numRuns: 60 },
    );
    // The runs did exercise what the property is about.
    expect(seen.fallbacks).toBeGreaterThan(0);
    expect(seen.duplicates).toBeGreaterThan(0);
    expect(seen.txns).toBeGreaterThan(0);
  }, 180_000);
});
