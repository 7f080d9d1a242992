/**
 * Scanner messages as the wire carries them: a transaction flattened, batches filled only with
 * what is ready (never waiting), the end, and a scanner failure after a partial batch.
 */
import { describe, expect, it } from 'vitest';
import { FlatMessageSource } from '../../../../../node/service/consume/index.js';
import { ImmutableTxnMessage } from '../../../../../node/wal/index.js';
import { marshalMessageType, MessageType, StreamingError } from '../../../../../shared/index.js';
import { FakeScanner, stored } from '../produce/fakes.js';

const V = 'p-rootcoord-dml_0_1v0';
const offsets = (messages: readonly { messageId: { offset: bigint } }[]): bigint[] => messages.map((m) => m.messageId.offset);

describe('FlatMessageSource', () => {
  it('waits for the first message and adds only what is ready', async () => {
    const scanner = new FakeScanner();
    const source = new FlatMessageSource(scanner);
    const first = source.take(10);
    await scanner.queue.push(stored(1n, V));
    expect(offsets(await first)).toEqual([1n]);
    for (const o of [2n, 3n, 4n]) await scanner.queue.push(stored(o, V));
    expect(offsets(await source.take(2))).toEqual([2n, 3n]);
    expect(offsets(await source.take(10))).toEqual([4n]);
    expect(source.delivered).toBe(4);
  });

  it('flattens a transaction into BeginTxn, bodies, CommitTxn, across batches', async () => {
    const scanner = new FakeScanner();
    const source = new FlatMessageSource(scanner);
    const begin = stored(10n, V, { _t: marshalMessageType(MessageType.BeginTxn) });
    const commit = stored(13n, V, { _t: marshalMessageType(MessageType.CommitTxn) });
    await scanner.queue.push(ImmutableTxnMessage.assemble(begin, [stored(11n, V), stored(12n, V)], commit));
    await scanner.queue.push(stored(14n, V));
    expect(offsets(await source.take(3))).toEqual([10n, 11n, 12n]);
    expect(offsets(await source.take(1))).toEqual([13n]);
    expect(offsets(await source.take(5))).toEqual([14n]);
  });

  it('returns an empty batch once the scanner ended', async () => {
    const scanner = new FakeScanner();
    const source = new FlatMessageSource(scanner);
    await scanner.queue.push(stored(1n, V));
    await scanner.close();
    expect(offsets(await source.take(5))).toEqual([1n]);
    expect(await source.take(5)).toEqual([]);
  });

  it('hands out what came before a failure, then throws it', async () => {
    const scanner = new FakeScanner();
    const source = new FlatMessageSource(scanner);
    await scanner.queue.push(stored(1n, V));
    const batch = source.take(5);
    scanner.fail(StreamingError.inner('disk gone'));
    expect(offsets(await batch)).toEqual([1n]);
    await expect(source.take(5)).rejects.toThrow('disk gone');
  });
});
