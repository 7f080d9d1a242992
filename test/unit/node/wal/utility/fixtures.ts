/**
 * Shared by the utility tests: immutable messages as the WAL would store them, a counting TSO,
 * and helpers for asynchronous reads.
 */
import { expect } from 'vitest';
import { StreamingError } from '../../../../../shared/errors/index.js';
import {
  type ImmutableMessage,
  MessageId,
  MessageType,
  type MutableMessage,
  newBeginTxnMessage,
  newCommitTxnMessage,
  newRollbackTxnMessage,
  newTimeTickMessage,
  newUserMessage,
  pchannelName,
  type TxnContext,
  txnContext,
  vchannelName,
} from '../../../../../shared/message/index.js';
import type { TsoAllocator } from '../../../../../shared/tso/index.js';
import type { WriteAheadBufferReader } from '../../../../../node/wal/utility/index.js';

export const PCHANNEL = pchannelName('by-dev-rootcoord-dml', 0);
export const VCHANNEL = vchannelName(PCHANNEL, 100, 0);

/** Options of the builders; `lc` defaults to the message's own id. */
export interface StampOptions {
  readonly lc?: bigint;
  readonly vchannel?: string;
  readonly payload?: Uint8Array;
}

function stamp(message: MutableMessage, id: bigint | number, tt: bigint | number, options: StampOptions): ImmutableMessage {
  const withTick = message.withTimeTick(BigInt(tt));
  const withLc = options.lc === undefined ? withTick.withLastConfirmedUseMessageId() : withTick.withLastConfirmed(MessageId.of(options.lc));
  return withLc.intoImmutable(MessageId.of(id));
}

/** An Insert on {@link VCHANNEL} (or `options.vchannel`), optionally inside `txn`. */
export function insert(id: bigint | number, tt: bigint | number, txn?: TxnContext, options: StampOptions = {}): ImmutableMessage {
  let message = newUserMessage({
    type: MessageType.Insert,
    vchannel: options.vchannel ?? VCHANNEL,
    payload: options.payload ?? Buffer.from(`insert-${id}`),
  });
  if (txn !== undefined) message = message.withTxnContext(txn);
  return stamp(message, id, tt, options);
}

/** A TimeTick message for every vchannel; persisted unless `persisted` is false. */
export function tick(id: bigint | number, tt: bigint | number, persisted = true): ImmutableMessage {
  const message = newTimeTickMessage({ timeTick: BigInt(tt), notPersisted: !persisted, lastConfirmed: 'self' });
  return message.intoImmutable(MessageId.of(id));
}

/** BeginTxn of `txn` on {@link VCHANNEL}. */
export function begin(id: bigint | number, tt: bigint | number, txn: TxnContext, options: StampOptions = {}): ImmutableMessage {
  const message = newBeginTxnMessage({ vchannel: options.vchannel ?? VCHANNEL, keepaliveMs: txn.keepaliveMs }).withTxnContext(txn);
  return stamp(message, id, tt, options);
}

/** CommitTxn of `txn`. */
export function commit(id: bigint | number, tt: bigint | number, txn: TxnContext, options: StampOptions = {}): ImmutableMessage {
  return stamp(newCommitTxnMessage({ vchannel: options.vchannel ?? VCHANNEL, txn }), id, tt, options);
}

/** RollbackTxn of `txn`. */
export function rollback(id: bigint | number, tt: bigint | number, txn: TxnContext, options: StampOptions = {}): ImmutableMessage {
  return stamp(newRollbackTxnMessage({ vchannel: options.vchannel ?? VCHANNEL, txn }), id, tt, options);
}

/** A txn context. */
export function txn(id: bigint | number, keepaliveMs: bigint | number): TxnContext {
  return txnContext(id, keepaliveMs);
}

/** True once `promise` has settled, after letting pending callbacks run (no timers involved). */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  return settled;
}

/** A TSO handing out start + 1, start + 2, … */
export class CounterTso implements TsoAllocator {
  next: bigint;
  constructor(start = 0n) {
    this.next = start;
  }
  allocate(): Promise<bigint> {
    this.next += 1n;
    return Promise.resolve(this.next);
  }
}

/** {@link CounterTso} that also hands out timestamps synchronously (`tryAllocate`), like the local TSO. */
export class SyncCounterTso extends CounterTso {
  tryAllocate(): bigint {
    this.next += 1n;
    return this.next;
  }
}

/** A deterministic pseudo-random sequence (the Go tests use math/rand). */
export function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function readUntil(reader: WriteAheadBufferReader, above: bigint, seen: ImmutableMessage[]): Promise<void> {
  for (;;) {
    const m = await reader.next();
    seen.push(m);
    if (m.timeTick > above) return;
  }
}

/** Asserts a read waits (then withdraws it, so it does not take the reader's next message). */
export async function expectWaiting(reader: WriteAheadBufferReader): Promise<void> {
  const ac = new AbortController();
  const pending = reader.next({ signal: ac.signal });
  expect(await isSettled(pending)).toBe(false);
  ac.abort(StreamingError.onShutdown('stop waiting'));
  await expect(pending).rejects.toThrow('stop waiting');
}

/** Asserts data time ticks strictly increase and TimeTick ticks never decrease. */
export function expectTimeTickOrder(messages: readonly ImmutableMessage[]): void {
  let last = -1n;
  for (const m of messages) {
    if (m.messageType === MessageType.TimeTick) expect(m.timeTick).toBeGreaterThanOrEqual(last);
    else expect(m.timeTick).toBeGreaterThan(last);
    last = m.timeTick;
  }
}

