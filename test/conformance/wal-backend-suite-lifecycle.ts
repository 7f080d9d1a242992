/**
 * Lifecycle, backpressure and bad input: a slow reader holds a bounded read-ahead while the writer
 * runs far ahead; closing a backend ends its scanners with ON_SHUTDOWN; closes are idempotent and
 * children close first; misuse gets clear StreamingErrors.
 */
import { expect, it } from 'vitest';
import {
  deliverAll,
  deliverLatest,
  deliverStartFrom,
  type DeliverPolicy,
  type MutableMessage,
  pchannelInfo,
  type PChannelInfo,
} from '../../shared/message/index.js';
import { waitFor } from '../../shared/util/index.js';
import {
  appendMany,
  channelName,
  describeMessages,
  expectStreamingError,
  handled,
  message,
  openAt,
  StreamingCode,
  type SuiteContext,
  take,
} from './wal-backend-fixture.js';

/** Registers the lifecycle and bad-input tests. */
export function lifecycleTests(ctx: () => SuiteContext): void {
  it('a slow reader holds at most its read-ahead while 10 000 appends proceed, then reads everything in order', async () => {
    const wal = await openAt(ctx().opener, channelName('slow'), 1n);
    const slow = wal.read({ name: 'slow', deliverPolicy: deliverAll(), readAheadBufferSize: 64 });
    let done = false;
    const appending = appendMany(wal, 'm', 10_000, 200).finally(() => (done = true));
    // The reader takes one message (so it has read ahead), then stalls while the writer runs on.
    const first = await take(slow, 1);
    let peak = slow.bufferedCount;
    await waitFor(
      () => {
        peak = Math.max(peak, slow.bufferedCount);
        return done;
      },
      { timeoutMs: 25_000, intervalMs: 2 },
    );
    const written = await appending;
    peak = Math.max(peak, slow.bufferedCount);
    expect(slow.bufferedCount).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(64);
    const rest = await take(slow, 9_999, 30_000);
    expect(describeMessages([...first, ...rest])).toEqual(describeMessages(written));
    expect(slow.bufferedCount).toBe(0);
  });

  it('closing a backend ends its scanners with ON_SHUTDOWN, buffered or waiting', async () => {
    const wal = await openAt(ctx().opener, channelName('close-scan'), 1n);
    await appendMany(wal, 'm', 5);
    const waiting = wal.read({ name: 'waiting', deliverPolicy: deliverLatest() });
    const pending = handled(waiting[Symbol.asyncIterator]().next());
    const buffered = wal.read({ name: 'buffered', deliverPolicy: deliverAll() });
    await take(buffered, 1);
    await wal.close();
    await expectStreamingError(pending, StreamingCode.ON_SHUTDOWN, 'closed');
    await expectStreamingError(buffered[Symbol.asyncIterator]().next(), StreamingCode.ON_SHUTDOWN);
    expect((await waiting.closed())?.code).toBe(StreamingCode.ON_SHUTDOWN);
  });

  it('closing a scanner ends its iteration normally, also a pending next()', async () => {
    const wal = await openAt(ctx().opener, channelName('scan-close'), 1n);
    const scanner = wal.read({ name: 's', deliverPolicy: deliverLatest() });
    const pending = handled(scanner[Symbol.asyncIterator]().next());
    await scanner.close();
    await scanner.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await scanner.closed()).toBeUndefined();
    // Breaking out of for-await closes it too.
    await wal.append(message('x'));
    const other = wal.read({ name: 'o', deliverPolicy: deliverAll() });
    for await (const m of other) {
      expect(m.payload.toString()).toBe('payload-x');
      break;
    }
    expect(await other.closed()).toBeUndefined();
  });

  it('an aborted signal ends a scanner with the abort reason', async () => {
    const wal = await openAt(ctx().opener, channelName('abort'), 1n);
    const controller = new AbortController();
    const scanner = wal.read({ name: 'a', deliverPolicy: deliverLatest(), signal: controller.signal });
    const pending = handled(scanner[Symbol.asyncIterator]().next());
    controller.abort(new Error('consumer went away'));
    const error = await expectStreamingError(pending, StreamingCode.ON_SHUTDOWN, 'aborted', 'consumer went away');
    expect(error.cause).toBeInstanceOf(Error);
    await expectStreamingError(
      () => wal.read({ name: 'b', deliverPolicy: deliverAll(), signal: AbortSignal.abort() }),
      StreamingCode.ON_SHUTDOWN,
      'aborted',
    );
  });

  it('close is idempotent and every call afterwards fails with ON_SHUTDOWN', async () => {
    const { opener } = ctx();
    const wal = await openAt(opener, channelName('closed'), 1n);
    const id = await wal.append(message('m'));
    const closing = [wal.close(), wal.close()];
    await Promise.all(closing);
    await wal.close();
    expect(await wal.closed()).toBeUndefined();
    await expectStreamingError(wal.append(message('x')), StreamingCode.ON_SHUTDOWN, 'closed');
    await expectStreamingError(() => wal.read({ name: 'r', deliverPolicy: deliverAll() }), StreamingCode.ON_SHUTDOWN);
    await expectStreamingError(wal.truncate(id), StreamingCode.ON_SHUTDOWN);
    await expectStreamingError(wal.saveCheckpoint(Buffer.from('c')), StreamingCode.ON_SHUTDOWN);
    await expectStreamingError(wal.loadCheckpoint(), StreamingCode.ON_SHUTDOWN);
  });

  it('closing the opener closes its backends first, is idempotent, and refuses later opens', async () => {
    const { opener } = ctx();
    const a = await openAt(opener, channelName('oa'), 1n);
    const b = await openAt(opener, channelName('ob'), 1n, 'ro');
    const scanner = a.read({ name: 's', deliverPolicy: deliverLatest() });
    await Promise.all([opener.close(), opener.close()]);
    await opener.close();
    expect(await a.closed()).toBeUndefined();
    expect(await b.closed()).toBeUndefined();
    expect((await scanner.closed())?.code).toBe(StreamingCode.ON_SHUTDOWN);
    await expectStreamingError(openAt(opener, channelName('oc'), 1n), StreamingCode.ON_SHUTDOWN);
  });

  it('appends in flight when the backend closes still complete', async () => {
    const wal = await openAt(ctx().opener, channelName('drain'), 1n);
    const inFlight = Array.from({ length: 100 }, (_, i) => wal.append(message(String(i))));
    await wal.close();
    const ids = await Promise.all(inFlight);
    expect(new Set(ids.map((id) => id.offset)).size).toBe(100);
  });

  it('close waits for the instance\'s own appends even while another instance keeps the pchannel open', async () => {
    const { opener } = ctx();
    const name = channelName('drain-shared');
    const keeper = await openAt(opener, name, 1n, 'ro');
    const wal = await openAt(opener, name, 1n);
    const first = await wal.append(message('first'));
    await wal.truncate(first);
    await wal.saveCheckpoint(Buffer.from('cp'));
    let settled = 0;
    const inFlight = Array.from({ length: 100 }, (_, i) => wal.append(message(String(i))).finally(() => settled++));
    await wal.close();
    expect(settled).toBe(100);
    await Promise.all(inFlight);
    expect(keeper.latestMessageId()?.gt(first)).toBe(true);
  });

  it('refuses bad input with clear StreamingErrors', async () => {
    const { opener } = ctx();
    const name = channelName('bad');
    for (const bad of ['', 'a/b', '..', 'x_1v2']) {
      await expectStreamingError(opener.open(pchannelInfoUnchecked(bad, 1n)), StreamingCode.INVAILD_ARGUMENT, 'pchannel');
    }
    await expectStreamingError(opener.open(pchannelInfo(name, -1n)), StreamingCode.INVAILD_ARGUMENT, 'term');
    await expectStreamingError(opener.open({ name, term: 1, accessMode: 'rw' } as unknown as PChannelInfo), StreamingCode.INVAILD_ARGUMENT, 'term');
    await expectStreamingError(opener.open({ name, term: 1n, accessMode: 'wx' } as unknown as PChannelInfo), StreamingCode.INVAILD_ARGUMENT, 'accessMode');
    await expectStreamingError(opener.open(pchannelInfo(name, 1n), { signal: AbortSignal.abort() }), StreamingCode.ON_SHUTDOWN, 'aborted');

    const wal = await openAt(opener, name, 1n);
    await expectStreamingError(wal.append({ payload: Buffer.alloc(0), properties: {} } as unknown as MutableMessage), StreamingCode.INVAILD_ARGUMENT, 'MutableMessage');
    for (const size of [0, -1, 1.5]) {
      await expectStreamingError(() => wal.read({ name: 'r', deliverPolicy: deliverAll(), readAheadBufferSize: size }), StreamingCode.INVAILD_ARGUMENT, 'readAheadBufferSize');
    }
    await expectStreamingError(() => wal.read({ name: 'r', deliverPolicy: { kind: 'newest' } as unknown as DeliverPolicy }), StreamingCode.INVAILD_ARGUMENT, 'deliverPolicy');
    await expectStreamingError(() => wal.read({ name: 'r', deliverPolicy: deliverStartFrom('7' as never) }), StreamingCode.INVAILD_ARGUMENT, 'deliverPolicy');
    await expectStreamingError(wal.truncate(7 as never), StreamingCode.INVAILD_ARGUMENT, 'truncate');
    await expectStreamingError(wal.saveCheckpoint('text' as never), StreamingCode.INVAILD_ARGUMENT, 'checkpoint');
    // The backend still works after all that.
    await wal.append(message('ok'));
  });
}

/** A PChannelInfo that skips the constructor's own checks, to reach the opener's. */
function pchannelInfoUnchecked(name: string, term: bigint): PChannelInfo {
  return { name, term, accessMode: 'rw' };
}
