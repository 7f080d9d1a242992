/**
 * The recovery checkpoint: proto codec, loading (corrupt = none), and the keeper (saves only when
 * moved, never moves back, reports fencing, saves once more on close).
 */
import { describe, expect, it } from 'vitest';
import {
  CheckpointKeeper,
  decodeWalCheckpoint,
  encodeWalCheckpoint,
  laterCheckpoint,
  loadWalCheckpoint,
  RECOVERY_MAGIC_STREAMING_INITIALIZED,
  type WalCheckpoint,
  walCheckpoint,
} from '../../../../../node/wal/recovery/index.js';
import { decodeProto, MessageId, noopLogger, StreamingCode, StreamingError, waitFor } from '../../../../../shared/index.js';
import { expectCode } from './fixtures.js';

describe('WAL checkpoint codec', () => {
  it('round-trips through the Milvus WALCheckpoint proto', () => {
    const checkpoint = walCheckpoint(MessageId.of(12345n), 470_000_000_000_000_001n);
    const bytes = encodeWalCheckpoint(checkpoint);
    const proto = decodeProto<{ message_id: { id: string; WAL_name: string }; time_tick: string; recovery_magic: string }>(
      'milvus.proto.streaming.WALCheckpoint',
      bytes,
    );
    expect(proto.message_id).toEqual({ id: MessageId.of(12345n).marshal(), WAL_name: 'RocksMQ' });
    expect(proto.time_tick).toBe('470000000000000001');
    expect(BigInt(proto.recovery_magic)).toBe(RECOVERY_MAGIC_STREAMING_INITIALIZED);
    const back = decodeWalCheckpoint(bytes);
    expect(back.messageId.equals(checkpoint.messageId)).toBe(true);
    expect(back.timeTick).toBe(checkpoint.timeTick);
  });

  it('refuses bytes that are not a checkpoint with an id', () => {
    expect(() => decodeWalCheckpoint(Buffer.from([0xff, 0xff, 0xff]))).toThrow(StreamingError);
    expect(() => decodeWalCheckpoint(Buffer.alloc(0))).toThrow(/message_id/);
  });

  it('loads nothing for an absent or unreadable checkpoint', async () => {
    expect(await loadWalCheckpoint({ loadCheckpoint: () => Promise.resolve(undefined) }, noopLogger)).toBeUndefined();
    expect(await loadWalCheckpoint({ loadCheckpoint: () => Promise.resolve(Buffer.from([0xff])) }, noopLogger)).toBeUndefined();
    const stored = walCheckpoint(MessageId.of(7n), 9n);
    const loaded = await loadWalCheckpoint({ loadCheckpoint: () => Promise.resolve(encodeWalCheckpoint(stored)) }, noopLogger);
    expect(loaded?.messageId.offset).toBe(7n);
  });

  it('merges field by field, never backwards', () => {
    const a = walCheckpoint(MessageId.of(10n), 100n);
    expect(laterCheckpoint(undefined, a)).toBe(a);
    expect(laterCheckpoint(a, walCheckpoint(MessageId.of(5n), 90n))).toBe(a);
    const merged = laterCheckpoint(a, walCheckpoint(MessageId.of(8n), 200n));
    expect([merged.messageId.offset, merged.timeTick]).toEqual([10n, 200n]);
  });
});

describe('CheckpointKeeper', () => {
  function setup(initial?: WalCheckpoint) {
    const saved: WalCheckpoint[] = [];
    let fault: Error | undefined;
    const state = { current: walCheckpoint(MessageId.of(3n), 30n) };
    const fenced: StreamingError[] = [];
    const keeper = new CheckpointKeeper({
      backend: {
        saveCheckpoint: (bytes) => {
          if (fault !== undefined) return Promise.reject(fault);
          saved.push(decodeWalCheckpoint(bytes));
          return Promise.resolve();
        },
      },
      current: () => state.current,
      persisted: initial,
      intervalMs: 60_000,
      onFenced: (e) => fenced.push(e),
    });
    return { keeper, saved, state, fenced, fail: (e: Error | undefined) => (fault = e) };
  }

  it('saves only when the position moved, and never moves it back', async () => {
    const { keeper, saved, state } = setup(walCheckpoint(MessageId.of(2n), 20n));
    expect(await keeper.persist()).toBe(true);
    expect(await keeper.persist()).toBe(false);
    state.current = walCheckpoint(MessageId.of(1n), 40n);
    expect(await keeper.persist()).toBe(true);
    expect(saved.map((c) => [c.messageId.offset, c.timeTick])).toEqual([
      [3n, 30n],
      [3n, 40n],
    ]);
    expect(keeper.persisted?.timeTick).toBe(40n);
    expect(keeper.saveCount).toBe(2);
  });

  it('reports CHANNEL_FENCED and keeps the last stored checkpoint', async () => {
    const { keeper, fenced, fail } = setup();
    fail(StreamingError.channelFenced('p'));
    await expectCode(keeper.persist(), StreamingCode.CHANNEL_FENCED);
    expect(fenced).toHaveLength(1);
    expect(keeper.persisted).toBeUndefined();
  });

  it('saves once more on close and swallows the failure of that save', async () => {
    const ok = setup();
    await ok.keeper.close();
    expect(ok.saved).toHaveLength(1);
    const broken = setup();
    broken.fail(StreamingError.inner('disk full'));
    await broken.keeper.close();
    expect(broken.keeper.persisted).toBeUndefined();
  });

  it('saves on its timer', async () => {
    const saved: WalCheckpoint[] = [];
    const keeper = new CheckpointKeeper({
      backend: { saveCheckpoint: (bytes) => (saved.push(decodeWalCheckpoint(bytes)), Promise.resolve()) },
      current: () => walCheckpoint(MessageId.of(1n), BigInt(saved.length + 1)),
      persisted: undefined,
      intervalMs: 5,
    });
    keeper.start();
    await waitFor(() => saved.length >= 2, { timeoutMs: 10_000 });
    keeper.stop();
  });
});
