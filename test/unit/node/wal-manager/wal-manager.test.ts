import { afterEach, describe, expect, it } from 'vitest';
import { WalManager } from '../../../../node/wal-manager/index.js';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import { waitFor } from '../../../../shared/util/index.js';
import { expectCode, expectThrowsCode } from '../../../harness/expect-code.js';
import { FakeWalOpener, type FakeWal, ch } from './fake-wal-opener.js';

let opener: FakeWalOpener;
let manager: WalManager<FakeWal>;

function setup(): void {
  opener = new FakeWalOpener();
  manager = new WalManager<FakeWal>({ opener });
}

afterEach(async () => {
  // Tests that make close() fail assert that themselves.
  await manager.close().catch(() => undefined);
  expect(opener.violations).toEqual([]);
});

describe('WalManager (Milvus TestManager)', () => {
  it('opens, gets, removes across channels and answers ON_SHUTDOWN after close', async () => {
    setup();
    expectThrowsCode(() => manager.getAvailableWal(ch('ch1', 1)), StreamingCode.CHANNEL_NOT_EXIST);
    expect(manager.list()).toEqual([]);

    // Removing a never-opened channel succeeds and remembers the term.
    await manager.remove(ch('ch1', 1));
    expectThrowsCode(() => manager.getAvailableWal(ch('ch1', 1)), StreamingCode.CHANNEL_NOT_EXIST);
    await expectCode(manager.open(ch('ch1', 1)), StreamingCode.IGNORED_OPERATION);

    await manager.open(ch('ch1', 2));
    await expectCode(manager.remove(ch('ch1', 1)), StreamingCode.IGNORED_OPERATION);
    const mismatch = expectThrowsCode(() => manager.getAvailableWal(ch('ch1', 1)), StreamingCode.UNMATCHED_CHANNEL_TERM);
    expect(mismatch.message).toBe('channel ch1 at term 1 is expected, but current term is 2');
    const wal = manager.getAvailableWal(ch('ch1', 2));
    expect(wal.channel.term).toBe(2n);
    expect(wal.isAvailable()).toBe(true);
    expect(manager.list()).toHaveLength(1);

    await manager.open(ch('ch2', 3));
    expect(manager.list().map((w) => `${w.channel.name}@${w.channel.term}`).sort()).toEqual(['ch1@2', 'ch2@3']);

    await manager.close();
    expect(opener.wals.map((w) => w.closed)).toEqual([true, true]);
    const shutdown = expectThrowsCode(() => manager.list(), StreamingCode.ON_SHUTDOWN);
    expect(shutdown.message).toBe('wal manager is closed');
    await expectCode(manager.open(ch('ch2', 4)), StreamingCode.ON_SHUTDOWN);
    await expectCode(manager.remove(ch('ch1', 2)), StreamingCode.ON_SHUTDOWN);
    await expectCode(manager.remove(ch('never', 2)), StreamingCode.ON_SHUTDOWN);
    expectThrowsCode(() => manager.getAvailableWal(ch('ch1', 2)), StreamingCode.ON_SHUTDOWN);
  });

  it('keeps channels independent', async () => {
    setup();
    opener.holdOpens = true;
    const slow = manager.open(ch('a', 1));
    await waitFor(() => opener.heldOp('open', 'a@1'));
    opener.holdOpens = false;
    // b is not queued behind a's open.
    await manager.open(ch('b', 7));
    expect(manager.getAvailableWal(ch('b', 7)).channel.name).toBe('b');
    opener.heldOp('open', 'a@1')?.release();
    await slow;
    expect(manager.getAvailableWal(ch('a', 1)).channel.term).toBe(1n);
  });

  it('answers CHANNEL_NOT_EXIST for a WAL that turned unavailable by itself, yet still lists it', async () => {
    setup();
    await manager.open(ch('a', 1));
    const wal = opener.wals[0];
    wal?.fence();
    expectThrowsCode(() => manager.getAvailableWal(ch('a', 1)), StreamingCode.CHANNEL_NOT_EXIST);
    expect(manager.list()).toEqual([wal]);
    await manager.remove(ch('a', 1));
    expect(wal?.closed).toBe(true);
    expect(manager.list()).toEqual([]);
  });

  it('hands out WALs typed without close()', async () => {
    setup();
    await manager.open(ch('a', 1));
    const wal = manager.getAvailableWal(ch('a', 1));
    // @ts-expect-error the manager owns the WAL's lifetime; borrowers cannot close it
    void wal.close;
    expect(wal.isAvailable()).toBe(true);
  });

  it('surfaces an open failure and lets a later remove or open clear it', async () => {
    setup();
    const failure = new Error('recovery failed');
    opener.openFailures.set('a@1', failure);
    await expect(manager.open(ch('a', 1))).rejects.toBe(failure);
    expectThrowsCode(() => manager.getAvailableWal(ch('a', 1)), StreamingCode.CHANNEL_NOT_EXIST);
    await manager.remove(ch('a', 1));
    await manager.open(ch('a', 2));
    expect(manager.getAvailableWal(ch('a', 2)).channel.term).toBe(2n);
  });

  it('a cancelled open fails fast for the caller while the WAL still opens', async () => {
    setup();
    opener.holdOpens = true;
    const controller = new AbortController();
    const open = manager.open(ch('a', 5), { signal: controller.signal });
    await waitFor(() => opener.heldOp('open', 'a@5'));
    const reason = StreamingError.onShutdown('assign deadline');
    controller.abort(reason);
    await expect(open).rejects.toBe(reason);
    opener.heldOp('open', 'a@5')?.release();
    const wal = await waitFor(() => {
      try {
        return manager.getAvailableWal(ch('a', 5));
      } catch {
        return undefined;
      }
    });
    expect(wal.channel.term).toBe(5n);
    await manager.remove(ch('a', 5));
    expect(opener.wals[0]?.closed).toBe(true);
  });
});

describe('WalManager close', () => {
  it('stops accepting opens at once, fails pending calls with ON_SHUTDOWN, and is idempotent', async () => {
    setup();
    await manager.open(ch('a', 1));
    opener.holdOpens = true;
    const pending = manager.open(ch('b', 1));
    await waitFor(() => opener.heldOp('open', 'b@1'));
    opener.holdCloses = true;
    const closing = manager.close();
    expect(manager.close()).toBe(closing);
    // Closing: no new open; remove / get still answer for what is there.
    await expectCode(manager.open(ch('c', 1)), StreamingCode.ON_SHUTDOWN);
    const error = await expectCode(pending, StreamingCode.ON_SHUTDOWN);
    expect(error.message).toBe('wal manager is closed');
    const heldClose = await waitFor(() => opener.heldOp('close', 'a@1'));
    expect(manager.list()).toHaveLength(1);
    heldClose.release();
    await closing;
    expect(await manager.closed()).toBeUndefined();
    expect(opener.live('a')).toEqual([]);
    expect(opener.live('b')).toEqual([]);
    expect(opener.events).toContain('open-failed b@1');
  });

  it('closes every WAL even when one close fails, then rejects with an AggregateError', async () => {
    setup();
    await manager.open(ch('a', 1));
    await manager.open(ch('b', 1));
    await manager.open(ch('c', 1));
    const failure = new Error('close failed');
    opener.closeFailures.set('b@1', failure);
    const closing = manager.close();
    await expect(closing).rejects.toBeInstanceOf(AggregateError);
    await closing.catch((e: unknown) => {
      expect((e as AggregateError).errors).toEqual([failure]);
    });
    expect(opener.wals.every((w) => w.closed)).toBe(true);
    expect(manager.close()).toBe(closing);
    expect(await manager.closed()).toBeInstanceOf(AggregateError);
  });

  it('reports the close reason through closed()', async () => {
    setup();
    const reason = new Error('SIGTERM');
    await manager.close(reason);
    expect(await manager.closed()).toBe(reason);
  });
});
