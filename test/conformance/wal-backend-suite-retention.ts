/**
 * Offsets, retention and checkpoints: ids are never reused (across reopen and truncation),
 * truncation removes a prefix and reading into it is a clear UNRECOVERABLE error naming the
 * earliest available id (never a silent skip), checkpoints survive reopen.
 */
import { expect, it } from 'vitest';
import { deliverAll, deliverStartAfter, deliverStartFrom, type ImmutableMessage, MessageId } from '../../shared/message/index.js';
import {
  appendMany,
  channelName,
  describeMessages,
  expectStreamingError,
  message,
  openAt,
  StreamingCode,
  type SuiteContext,
  take,
} from './wal-backend-fixture.js';

const last = (ms: readonly ImmutableMessage[]): ImmutableMessage => ms[ms.length - 1] as ImmutableMessage;

/** Registers the retention and checkpoint tests. */
export function retentionTests(ctx: () => SuiteContext): void {
  it('never reuses ids after close and reopen at a higher term', async () => {
    const { opener } = ctx();
    const name = channelName('ids');
    const first = await openAt(opener, name, 1n);
    const a = await appendMany(first, 'a', 10);
    expect(first.earliestMessageId()?.equals(a[0]!.messageId)).toBe(true);
    expect(first.latestMessageId()?.equals(last(a).messageId)).toBe(true);
    await first.close();
    const second = await openAt(opener, name, 2n);
    expect(second.latestMessageId()?.equals(last(a).messageId)).toBe(true);
    const b = await appendMany(second, 'b', 10);
    expect(b[0]!.messageId.gt(last(a).messageId)).toBe(true);
  });

  it('never reuses ids after truncating everything, also across reopen', async () => {
    const { opener } = ctx();
    const name = channelName('trunc-ids');
    const wal = await openAt(opener, name, 1n);
    const a = await appendMany(wal, 'a', 10);
    await wal.truncate(MessageId.MAX); // clamped to the last message
    expect(wal.earliestMessageId()).toBeUndefined();
    expect(wal.latestMessageId()).toBeUndefined();
    const b = await wal.append(message('b'));
    expect(b.gt(last(a).messageId)).toBe(true);
    await wal.truncate(b);
    await wal.close();
    const reopened = await openAt(opener, name, 2n);
    expect(reopened.earliestMessageId()).toBeUndefined();
    const c = await reopened.append(message('c'));
    expect(c.gt(b)).toBe(true);
    expect(describeMessages(await take(reopened.read({ name: 'all', deliverPolicy: deliverAll() }), 1))).toEqual([[c.toString(), 'payload-c', 'c']]);
  });

  it('truncates a prefix; reading a truncated position fails with UNRECOVERABLE naming the earliest id', async () => {
    const wal = await openAt(ctx().opener, channelName('trunc'), 1n);
    const written = await appendMany(wal, 'm', 20);
    const upTo = written[9]!.messageId;
    await wal.truncate(upTo);
    const earliest = written[10]!.messageId;
    expect(wal.earliestMessageId()?.equals(earliest)).toBe(true);

    for (const policy of [deliverStartFrom(written[3]!.messageId), deliverStartFrom(upTo), deliverStartAfter(written[8]!.messageId)]) {
      const scanner = wal.read({ name: 'truncated', deliverPolicy: policy });
      const error = await expectStreamingError(take(scanner, 1), StreamingCode.UNRECOVERABLE, 'truncated', earliest.toString(), earliest.marshal());
      expect(await scanner.closed()).toBe(error);
    }
    // Right at the boundary nothing is missing.
    const after = wal.read({ name: 'after-boundary', deliverPolicy: deliverStartAfter(upTo) });
    expect(describeMessages(await take(after, 10))).toEqual(describeMessages(written.slice(10)));
    const all = wal.read({ name: 'all', deliverPolicy: deliverAll() });
    expect(describeMessages(await take(all, 10))).toEqual(describeMessages(written.slice(10)));
    // Truncating below the floor changes nothing.
    await wal.truncate(written[2]!.messageId);
    expect(wal.earliestMessageId()?.equals(earliest)).toBe(true);
  });

  it('a scanner behind a truncation fails instead of skipping', async () => {
    const wal = await openAt(ctx().opener, channelName('trunc-race'), 1n);
    const written = await appendMany(wal, 'm', 50, 10);
    const scanner = wal.read({ name: 'slow', deliverPolicy: deliverAll(), readAheadBufferSize: 2 });
    const firstTwo = await take(scanner, 2);
    await wal.truncate(written[29]!.messageId);
    const seen = [...firstTwo];
    const error = await expectStreamingError(
      (async () => {
        for await (const m of scanner) seen.push(m);
      })(),
      StreamingCode.UNRECOVERABLE,
      written[30]!.messageId.toString(),
    );
    expect(error.message).toContain('truncated');
    // Whatever was delivered is a gap-free prefix.
    expect(describeMessages(seen)).toEqual(describeMessages(written.slice(0, seen.length)));
  });

  it('truncation persists across reopen', async () => {
    const { opener } = ctx();
    const name = channelName('trunc-persist');
    const wal = await openAt(opener, name, 1n);
    const written = await appendMany(wal, 'm', 10);
    await wal.truncate(written[4]!.messageId);
    await wal.close();
    const reopened = await openAt(opener, name, 2n);
    expect(reopened.earliestMessageId()?.equals(written[5]!.messageId)).toBe(true);
    await expectStreamingError(take(reopened.read({ name: 'old', deliverPolicy: deliverStartFrom(written[0]!.messageId) }), 1), StreamingCode.UNRECOVERABLE);
    expect(describeMessages(await take(reopened.read({ name: 'all', deliverPolicy: deliverAll() }), 5))).toEqual(describeMessages(written.slice(5)));
  });

  it('stores checkpoints durably and returns the last one, across reopen and to read-only instances', async () => {
    const { opener } = ctx();
    const name = channelName('cp');
    const wal = await openAt(opener, name, 1n);
    expect(await wal.loadCheckpoint()).toBeUndefined();
    const source = Buffer.from('first');
    await wal.saveCheckpoint(source);
    source.fill(0); // the backend copied it
    expect((await wal.loadCheckpoint())?.toString()).toBe('first');
    await wal.saveCheckpoint(new Uint8Array([1, 2, 3]));
    await wal.saveCheckpoint(Buffer.alloc(0));
    await wal.saveCheckpoint(Buffer.from('last'));
    await wal.close();
    const reopened = await openAt(opener, name, 2n);
    expect((await reopened.loadCheckpoint())?.toString()).toBe('last');
    const ro = await openAt(opener, name, 2n, 'ro');
    expect((await ro.loadCheckpoint())?.toString()).toBe('last');
  });
}
