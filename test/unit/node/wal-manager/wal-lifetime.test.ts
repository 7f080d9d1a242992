import { afterEach, describe, expect, it } from 'vitest';
import { WalLifetime } from '../../../../node/wal-manager/index.js';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import { waitFor } from '../../../../shared/util/index.js';
import { expectCode } from '../../../harness/expect-code.js';
import { FakeWalOpener, type FakeWal, ch } from './fake-wal-opener.js';

const NAME = 'test';
let opener: FakeWalOpener;
let lifetime: WalLifetime<FakeWal>;

function setup(): void {
  opener = new FakeWalOpener();
  lifetime = new WalLifetime<FakeWal>({ channel: NAME, opener });
}

function state(): string {
  const s = lifetime.currentState;
  return `(${s.term},${s.available})`;
}

function aborted(reason = StreamingError.onShutdown('caller gave up')): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

afterEach(async () => {
  // Tests that make close() fail assert that themselves.
  await lifetime.close().catch(() => undefined);
  expect(opener.violations).toEqual([]);
});

describe('WalLifetime (Milvus TestWALLifetime)', () => {
  it('runs the open / remove sequence with the expected outcomes', async () => {
    setup();
    expect(lifetime.getWal()).toBeUndefined();
    expect(state()).toBe('(-1,false)');

    await lifetime.open(ch(NAME, 2));
    expect(lifetime.getWal()?.channel.term).toBe(2n);

    // An expired term's remove is ignored and leaves the WAL alone.
    await expectCode(lifetime.remove(1n), StreamingCode.IGNORED_OPERATION);
    expect(lifetime.getWal()?.channel.term).toBe(2n);

    await lifetime.remove(2n);
    expect(lifetime.getWal()).toBeUndefined();
    expect(state()).toBe('(2,false)');

    await expectCode(lifetime.open(ch(NAME, 1)), StreamingCode.IGNORED_OPERATION);
    expect(lifetime.getWal()).toBeUndefined();

    await lifetime.open(ch(NAME, 5));
    expect(lifetime.getWal()?.channel.term).toBe(5n);

    // A newer term replaces the open one: closed before the new one opens.
    await lifetime.open(ch(NAME, 10));
    expect(lifetime.getWal()?.channel.term).toBe(10n);

    // A caller already cancelled fails with its reason, but the request is recorded.
    const reason = StreamingError.onShutdown('assign rpc cancelled');
    await expect(lifetime.open(ch(NAME, 11), { signal: aborted(reason) })).rejects.toBe(reason);
    await expect(lifetime.remove(11n, { signal: aborted(reason) })).rejects.toBe(reason);
    await waitFor(() => state() === '(11,false)', { message: 'remove(11) converged' });
    await expectCode(lifetime.open(ch(NAME, 11)), StreamingCode.IGNORED_OPERATION);

    await lifetime.open(ch(NAME, 12));
    expect(lifetime.getWal()?.channel.term).toBe(12n);

    await lifetime.close();
    expect(opener.wals.every((w) => w.closed && w.closeCalls === 1)).toBe(true);
    // Opened terms, each closed before the next one opened.
    const opens = opener.events.filter((e) => e.startsWith('opened')).map((e) => e.split('@')[1]);
    expect(opens.slice(0, 3)).toEqual(['2', '5', '10']);
    expect(opens.at(-1)).toBe('12');
    expect(opener.events.slice(0, 6)).toEqual([
      'open test@2', 'opened test@2', 'close test@2', 'closed test@2', 'open test@5', 'opened test@5',
    ]);
    expect(opener.events.slice(6, 10)).toEqual(['close test@5', 'closed test@5', 'open test@10', 'opened test@10']);
  });

  it('lets a remove succeed after an open interrupted by the caller failed (Milvus #51078)', async () => {
    setup();
    opener.holdOpens = true;
    const controller = new AbortController();
    const open = lifetime.open(ch(NAME, 1), { signal: controller.signal });
    const held = await waitFor(() => opener.heldOp('open', 'test@1'));
    const reason = StreamingError.onShutdown('assign timeout');
    controller.abort(reason);
    await expect(open).rejects.toBe(reason);
    // The recovery then fails on its own.
    held.fail(new Error('failed to recover from wal'));
    await waitFor(() => opener.events.includes('open-failed test@1'));

    await lifetime.remove(1n);
    expect(lifetime.getWal()).toBeUndefined();
    expect(state()).toBe('(1,false)');
  });

  it('surfaces an open failure, keeps it for that term, and clears it with a newer term', async () => {
    setup();
    const failure = new Error('disk on fire');
    opener.openFailures.set('test@1', failure);
    await expect(lifetime.open(ch(NAME, 1))).rejects.toBe(failure);
    expect(state()).toBe('(1,false)');
    expect(lifetime.getWal()).toBeUndefined();
    // The same term is not retried: the coordinator must move to a new term.
    await expectCode(lifetime.open(ch(NAME, 1)), StreamingCode.IGNORED_OPERATION);
    // Removing the failed term succeeds, and a newer term opens.
    await lifetime.remove(1n);
    await lifetime.open(ch(NAME, 2));
    expect(lifetime.getWal()?.channel.term).toBe(2n);
  });

  it('a newer open clears a failed one directly', async () => {
    setup();
    opener.openFailures.set('test@3', new Error('no'));
    await expect(lifetime.open(ch(NAME, 3))).rejects.toThrow('no');
    await lifetime.open(ch(NAME, 4));
    expect(state()).toBe('(4,true)');
  });

  it('a cancelled open fails fast, the open still completes, and a remove of that term closes it', async () => {
    setup();
    opener.holdOpens = true;
    const controller = new AbortController();
    const open = lifetime.open(ch(NAME, 3), { signal: controller.signal });
    const held = await waitFor(() => opener.heldOp('open', 'test@3'));
    const reason = StreamingError.onShutdown('caller went away');
    controller.abort(reason);
    await expect(open).rejects.toBe(reason);
    expect(held).toBe(opener.heldOp('open', 'test@3')); // still in progress in the background
    // The opener got the lifetime's signal, not the caller's: it is not aborted.
    expect(opener.signals.get('test@3')?.aborted).toBe(false);

    held.release();
    await waitFor(() => state() === '(3,true)');
    const wal = lifetime.getWal();
    expect(wal?.isAvailable()).toBe(true);

    await lifetime.remove(3n);
    expect(wal?.closed).toBe(true);
    expect(state()).toBe('(3,false)');
    expect(opener.events).toEqual(['open test@3', 'opened test@3', 'close test@3', 'closed test@3']);
  });

  it('out-of-order remove(3) before open(3) leaves (3,false), and the late open is ignored', async () => {
    setup();
    await lifetime.remove(3n);
    expect(state()).toBe('(3,false)');
    await expectCode(lifetime.open(ch(NAME, 3)), StreamingCode.IGNORED_OPERATION);
    expect(lifetime.getWal()).toBeUndefined();
    expect(opener.events).toEqual([]);
  });

  it('a remove that overtakes an open in progress waits for it and then closes the WAL', async () => {
    setup();
    opener.holdOpens = true;
    const open = lifetime.open(ch(NAME, 1));
    const held = await waitFor(() => opener.heldOp('open', 'test@1'));
    const remove = lifetime.remove(1n);
    held.release();
    await Promise.all([open, remove]);
    expect(state()).toBe('(1,false)');
    expect(opener.events).toEqual(['open test@1', 'opened test@1', 'close test@1', 'closed test@1']);
  });

  it('answers UNMATCHED_CHANNEL_TERM to an open overtaken by a newer term, skipping its open', async () => {
    setup();
    opener.holdOpens = true;
    const open1 = lifetime.open(ch(NAME, 1));
    const held = await waitFor(() => opener.heldOp('open', 'test@1'));
    // Both arrive while term 1 is still opening; the background task only sees the latest.
    const open2 = lifetime.open(ch(NAME, 2));
    const open3 = lifetime.open(ch(NAME, 3));
    opener.holdOpens = false;
    held.release();
    await open1;
    const error = await expectCode(open2, StreamingCode.UNMATCHED_CHANNEL_TERM);
    expect(error.message).toContain('term 2');
    await open3;
    expect(state()).toBe('(3,true)');
    expect(opener.events).toEqual([
      'open test@1', 'opened test@1', 'close test@1', 'closed test@1', 'open test@3', 'opened test@3',
    ]);
  });

  it('keeps a WAL that turned unavailable by itself registered until removed', async () => {
    setup();
    await lifetime.open(ch(NAME, 1));
    const wal = lifetime.getWal();
    wal?.fence();
    expect(lifetime.getWal()).toBe(wal);
    expect(state()).toBe('(1,true)');
    await lifetime.remove(1n);
    expect(wal?.closed).toBe(true);
  });

  it('does not wedge when closing the old WAL fails', async () => {
    setup();
    opener.closeFailures.set('test@1', new Error('close failed'));
    await lifetime.open(ch(NAME, 1));
    await lifetime.open(ch(NAME, 2));
    expect(state()).toBe('(2,true)');
    expect(opener.wals[0]?.closed).toBe(true);
  });
});

describe('WalLifetime close', () => {
  it('fails pending and later calls with ON_SHUTDOWN, interrupts the opener, and is idempotent', async () => {
    setup();
    opener.holdOpens = true;
    const open = lifetime.open(ch(NAME, 1));
    await waitFor(() => opener.heldOp('open', 'test@1'));
    const closing = lifetime.close();
    expect(lifetime.close()).toBe(closing);
    await expectCode(open, StreamingCode.ON_SHUTDOWN);
    expect(opener.signals.get('test@1')?.aborted).toBe(true);
    await closing;
    expect(opener.events).toEqual(['open test@1', 'open-failed test@1']);
    await expectCode(lifetime.open(ch(NAME, 2)), StreamingCode.ON_SHUTDOWN);
    await expectCode(lifetime.remove(2n), StreamingCode.ON_SHUTDOWN);
  });

  it('closes a WAL whose opener finished after close began, instead of leaking it', async () => {
    setup();
    opener.holdOpens = true;
    opener.ignoreSignal = true;
    void lifetime.open(ch(NAME, 1)).catch(() => undefined);
    const held = await waitFor(() => opener.heldOp('open', 'test@1'));
    let closed = false;
    const closing = lifetime.close().then(() => {
      closed = true;
    });
    await Promise.resolve();
    expect(closed).toBe(false);
    held.release();
    await closing;
    expect(opener.wals).toHaveLength(1);
    expect(opener.wals[0]?.closed).toBe(true);
    expect(opener.live(NAME)).toEqual([]);
  });

  it('uses a StreamingError reason for the pending calls and rejects with the close failure', async () => {
    setup();
    await lifetime.open(ch(NAME, 1));
    const failure = new Error('close failed');
    opener.closeFailures.set('test@1', failure);
    const reason = StreamingError.onShutdown('node stopping');
    await expect(lifetime.close(reason)).rejects.toBe(failure);
    await expect(lifetime.open(ch(NAME, 2))).rejects.toBe(reason);
    expect(lifetime.getWal()).toBeUndefined();
  });
});
