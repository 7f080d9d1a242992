/**
 * Term fencing: a lower term cannot open; a higher read-write open fences older instances at once
 * (their appends fail with CHANNEL_FENCED and never land, even those racing the fence); read-only
 * opens never fence.
 */
import { expect, it } from 'vitest';
import type { MessageId } from '../../shared/message/index.js';
import { deliverAll, deliverLatest } from '../../shared/message/index.js';
import {
  appendMany,
  channelName,
  describeMessages,
  expectStreamingError,
  handled,
  message,
  openAt,
  StreamingCode,
  streamingErrorOf,
  type SuiteContext,
  take,
} from './wal-backend-fixture.js';

/** Registers the fencing tests. */
export function fencingTests(ctx: () => SuiteContext): void {
  it('refuses to open at a term lower than the one holding the pchannel, naming that term', async () => {
    const { opener } = ctx();
    const name = channelName('stale');
    const wal = await openAt(opener, name, 5n);
    await expectStreamingError(openAt(opener, name, 4n), StreamingCode.CHANNEL_FENCED, 'term 5', name);
    await wal.close();
    // The term is persisted: still refused after every instance closed.
    await expectStreamingError(openAt(opener, name, 3n), StreamingCode.CHANNEL_FENCED, 'term 5');
    const higher = await openAt(opener, name, 6n);
    expect(higher.channel.term).toBe(6n);
  });

  it('fences a still-open older instance when a higher term opens', async () => {
    const { opener } = ctx();
    const name = channelName('fence');
    const old = await openAt(opener, name, 1n);
    const before = await appendMany(old, 'before', 5);
    const tailing = old.read({ name: 'old-tail', deliverPolicy: deliverLatest() });
    const tailNext = handled(tailing[Symbol.asyncIterator]().next());
    const fresh = await openAt(opener, name, 2n);

    await expectStreamingError(old.append(message('late')), StreamingCode.CHANNEL_FENCED, 'term 1', 'term 2');
    await expectStreamingError(old.saveCheckpoint(Buffer.from('cp')), StreamingCode.CHANNEL_FENCED);
    await expectStreamingError(old.truncate(before[0]!.messageId), StreamingCode.CHANNEL_FENCED);
    await expectStreamingError(() => old.read({ name: 'x', deliverPolicy: deliverAll() }), StreamingCode.CHANNEL_FENCED);
    await expectStreamingError(tailNext, StreamingCode.CHANNEL_FENCED);
    expect((await tailing.closed())?.code).toBe(StreamingCode.CHANNEL_FENCED);

    const after = await appendMany(fresh, 'after', 3);
    const all = fresh.read({ name: 'all', deliverPolicy: deliverAll() });
    expect(describeMessages(await take(all, 8))).toEqual(describeMessages([...before, ...after]));
    await old.close();
    expect(await old.closed()).toMatchObject({ code: StreamingCode.CHANNEL_FENCED });
    // Closing the fenced instance leaves the new one working.
    await fresh.append(message('still'));
  });

  it('appends racing the fence either resolve before the open returns or fail, and exactly the resolved ones land', async () => {
    const { opener } = ctx();
    const name = channelName('race');
    const old = await openAt(opener, name, 1n);
    let seq = 0;
    let openedAt = Number.POSITIVE_INFINITY;
    const outcomes: Promise<{ id?: MessageId; error?: unknown; at: number }>[] = [];
    let fencing: Promise<unknown> | undefined;
    for (let wave = 0; wave < 30; wave++) {
      for (let i = 0; i < 50; i++) {
        outcomes.push(
          old.append(message(`${wave}-${i}`)).then(
            (id) => ({ id, at: seq++ }),
            (error: unknown) => ({ error, at: seq++ }),
          ),
        );
      }
      if (wave === 10) fencing = openAt(opener, name, 2n).then((w) => ((openedAt = seq++), w));
      // Let batches commit between waves, so the fence lands mid-stream.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(outcomes);
    const fresh = (await fencing) as Awaited<ReturnType<typeof openAt>>;
    const landed = results.filter((r) => r.id !== undefined);
    const failed = results.filter((r) => r.error !== undefined);
    expect(landed.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    for (const r of landed) expect(r.at).toBeLessThan(openedAt);
    for (const r of failed) expect((await streamingErrorOf(Promise.reject(r.error))).code).toBe(StreamingCode.CHANNEL_FENCED);

    const marker = await fresh.append(message('marker'));
    const seen = await take(fresh.read({ name: 'all', deliverPolicy: deliverAll() }), landed.length + 1);
    expect(seen.map((m) => m.messageId.offset)).toEqual([...landed.map((r) => (r.id as MessageId).offset).sort((a, b) => (a < b ? -1 : 1)), marker.offset]);
  });

  it('concurrent opens at different terms: the higher one wins, the lower one is refused or fenced', async () => {
    const { opener } = ctx();
    const name = channelName('concurrent');
    const [low, high] = await Promise.allSettled([openAt(opener, name, 2n), openAt(opener, name, 3n)]);
    expect(high.status).toBe('fulfilled');
    if (low.status === 'fulfilled') await expectStreamingError(low.value.append(message('low')), StreamingCode.CHANNEL_FENCED);
    else expect((await streamingErrorOf(Promise.reject(low.reason))).code).toBe(StreamingCode.CHANNEL_FENCED);
    if (high.status === 'fulfilled') await high.value.append(message('high'));
  });

  it('allows a second open at the same term without fencing the first', async () => {
    const { opener } = ctx();
    const name = channelName('same');
    const a = await openAt(opener, name, 3n);
    const b = await openAt(opener, name, 3n);
    const ids = [await a.append(message('a')), await b.append(message('b'))];
    expect(ids[0]!.lt(ids[1]!)).toBe(true);
  });

  it('read-only opens never fence and never raise the term', async () => {
    const { opener } = ctx();
    const name = channelName('ro-term');
    const writer = await openAt(opener, name, 2n);
    const ro = await openAt(opener, name, 9n, 'ro');
    const tail = ro.read({ name: 'ro-tail', deliverPolicy: deliverLatest() });
    const id = await writer.append(message('w'));
    expect((await take(tail, 1))[0]?.messageId.equals(id)).toBe(true);
    // Term 3 is still above the fence term (2), although a read-only open at 9 happened.
    const next = await openAt(opener, name, 3n);
    await expectStreamingError(writer.append(message('x')), StreamingCode.CHANNEL_FENCED);
    await next.append(message('y'));
    // The read-only instance is not fenced by the new writer.
    expect((await take(tail, 1))[0]?.payload.toString()).toBe('payload-y');
  });

  it('a read-only open needs no earlier writer and tolerates any term', async () => {
    const ro = await openAt(ctx().opener, channelName('ro-only'), -1n, 'ro');
    expect(ro.earliestMessageId()).toBeUndefined();
    expect(ro.latestMessageId()).toBeUndefined();
    await ro.close();
  });
}
