/**
 * A fake write side for scanner tests: it does what the time tick interceptor and sync operator
 * will do, on a real (memory) WAL backend and a real write-ahead buffer.
 *
 * - `stamp()` allocates a time tick (hybrid TSO, strictly increasing) and a last confirmed id and
 *   makes the message "in flight"; `write()` appends it to the backend. Writing stamped messages
 *   out of order reproduces concurrent appends (a larger tick at a smaller id).
 * - `tick()` is the sync operator: its tick is the largest one below every in-flight message (so it
 *   is a true watermark: every message with a tick ≤ it is already in the WAL), fresh from the TSO
 *   when nothing is in flight. The batch (written messages up to the tick) goes into the buffer,
 *   followed by the tick; the tick is persisted (written to the backend) when the batch is not
 *   empty or when asked, otherwise it carries `_np`, gets its last confirmed id as message id and
 *   only reaches the buffer.
 * - Last confirmed id of everything stamped: the last persisted tick's id, or the BeginTxn of the
 *   oldest open transaction if smaller. Reading from there yields every later-ticked message.
 */
import {
  type ImmutableMessage,
  type MessageId,
  MessageType,
  type MutableMessage,
  newBeginTxnMessage,
  newCommitTxnMessage,
  newRollbackTxnMessage,
  newTimeTickMessage,
  newUserMessage,
  type TxnContext,
  txnContext,
} from '../../../../../shared/message/index.js';
import { addPhysicalMs, composeTs } from '../../../../../shared/tso/index.js';
import type { WalBackend } from '../../../../../node/wal/backend/index.js';
import type { WriteAheadBuffer } from '../../../../../node/wal/utility/index.js';

/** A stamped message not yet written. */
export interface InFlight {
  readonly message: MutableMessage;
  readonly timeTick: bigint;
}

/** Options of {@link FakeWalWriter.tick}. */
export interface TickOptions {
  /** Persist even an empty batch (what `requestPersistedTimeTick` asks for). */
  readonly persisted?: boolean;
}

/** A TSO over hybrid timestamps; data ticks are even so a watermark below one is free (odd). */
export class FakeTso {
  #last = composeTs(1_000_000, 0);

  allocate(): bigint {
    this.#last += 2n;
    return this.#last;
  }

  /** Moves the physical clock forward (transaction expiry is measured on it). */
  advanceMs(ms: number): void {
    this.#last = addPhysicalMs(this.#last, ms);
  }
}

/** See the file comment. */
export class FakeWalWriter {
  readonly tso: FakeTso;
  readonly #backend: WalBackend;
  readonly #wab: WriteAheadBuffer;
  readonly #inFlight = new Set<bigint>();
  /** Written since the last tick, not yet in the buffer. */
  #unsynced: ImmutableMessage[] = [];
  readonly #openTxns = new Map<bigint, MessageId | undefined>();
  /** Every data / txn message written, in write (id) order. */
  readonly records: ImmutableMessage[] = [];
  /** Every tick emitted, in order. */
  readonly ticks: ImmutableMessage[] = [];
  #lastTickTimeTick: bigint;
  #lastPersistedTickId: MessageId;
  #nextTxnId = 1n;
  #tickChain: Promise<unknown> = Promise.resolve();

  /** `firstTick`: the persisted open barrier already in the backend and in the buffer, from `tso`. */
  constructor(backend: WalBackend, wab: WriteAheadBuffer, firstTick: ImmutableMessage, tso: FakeTso) {
    this.tso = tso;
    this.#backend = backend;
    this.#wab = wab;
    this.#lastTickTimeTick = firstTick.timeTick;
    this.#lastPersistedTickId = firstTick.messageId;
    this.ticks.push(firstTick);
  }

  /** Appends the open barrier tick to `backend`; returns it for the buffer and the writer. */
  static async appendFirstTick(backend: WalBackend, tso: FakeTso): Promise<ImmutableMessage> {
    const message = newTimeTickMessage({ timeTick: tso.allocate(), lastConfirmed: 'self' });
    return message.intoImmutable(await backend.append(message));
  }

  /** The last tick emitted (persisted or not). */
  get lastTick(): ImmutableMessage {
    return this.ticks[this.ticks.length - 1] as ImmutableMessage;
  }

  /** Allocates a time tick and a last confirmed id for `message`. */
  stamp(message: MutableMessage): InFlight {
    const timeTick = this.tso.allocate();
    this.#inFlight.add(timeTick);
    return { message: message.withTimeTick(timeTick).withLastConfirmed(this.#lastConfirmed()), timeTick };
  }

  /** Appends a stamped message to the backend. */
  async write(inFlight: InFlight): Promise<ImmutableMessage> {
    try {
      const stored = inFlight.message.intoImmutable(await this.#backend.append(inFlight.message));
      this.#unsynced.push(stored);
      this.records.push(stored);
      const txn = stored.txnContext;
      if (txn !== undefined && stored.messageType === MessageType.BeginTxn) this.#openTxns.set(txn.txnId, stored.messageId);
      if (txn !== undefined && isTxnEnd(stored.messageType)) this.#openTxns.delete(txn.txnId);
      return stored;
    } finally {
      this.#inFlight.delete(inFlight.timeTick);
    }
  }

  append(message: MutableMessage): Promise<ImmutableMessage> {
    return this.write(this.stamp(message));
  }

  /** An Insert on `vchannel` (undefined: every vchannel), payload `tag`. */
  insert(vchannel: string | undefined, tag: string, txn?: TxnContext): Promise<ImmutableMessage> {
    return this.append(insertMessage(vchannel, tag, txn));
  }

  /** Appends BeginTxn on `vchannel`; resolves with the new transaction. */
  async begin(vchannel: string, keepaliveMs = 60_000): Promise<TxnContext> {
    const txn = txnContext(this.#nextTxnId++, keepaliveMs);
    this.#openTxns.set(txn.txnId, undefined);
    await this.append(newBeginTxnMessage({ vchannel, keepaliveMs }).withTxnContext(txn));
    return txn;
  }

  commit(txn: TxnContext, vchannel: string): Promise<ImmutableMessage> {
    return this.append(newCommitTxnMessage({ vchannel, txn }));
  }

  rollback(txn: TxnContext, vchannel: string): Promise<ImmutableMessage> {
    return this.append(newRollbackTxnMessage({ vchannel, txn }));
  }

  /** Emits a time tick; see the file comment. Undefined when in-flight messages block progress. */
  tick(options: TickOptions = {}): Promise<ImmutableMessage | undefined> {
    // One sync at a time, like the sync operator: the buffer needs ticks in order.
    const next = this.#tickChain.then(() => this.#tick(options));
    this.#tickChain = next.catch(() => undefined);
    return next;
  }

  async #tick(options: TickOptions): Promise<ImmutableMessage | undefined> {
    let watermark: bigint;
    if (this.#inFlight.size === 0) watermark = this.tso.allocate();
    else watermark = [...this.#inFlight].reduce((a, b) => (a < b ? a : b)) - 1n;
    if (watermark <= this.#lastTickTimeTick) return undefined;
    const batch = this.#unsynced.filter((m) => m.timeTick <= watermark).sort((a, b) => (a.timeTick < b.timeTick ? -1 : 1));
    this.#unsynced = this.#unsynced.filter((m) => m.timeTick > watermark);
    this.#lastTickTimeTick = watermark;
    const lastConfirmed = this.#lastConfirmed();
    const persisted = batch.length > 0 || options.persisted === true;
    const message = newTimeTickMessage({ timeTick: watermark, lastConfirmed, notPersisted: !persisted });
    const tick = persisted ? message.intoImmutable(await this.#backend.append(message)) : message.intoImmutable(lastConfirmed);
    if (persisted) this.#lastPersistedTickId = tick.messageId;
    this.ticks.push(tick);
    this.#wab.append(batch, tick);
    return tick;
  }

  #lastConfirmed(): MessageId {
    let lc = this.#lastPersistedTickId;
    for (const begin of this.#openTxns.values()) if (begin !== undefined && begin.lt(lc)) lc = begin;
    return lc;
  }
}

function isTxnEnd(type: MessageType): boolean {
  return type === MessageType.CommitTxn || type === MessageType.RollbackTxn;
}

/** An Insert message (optionally a body of `txn`) with payload `tag`. */
export function insertMessage(vchannel: string | undefined, tag: string, txn?: TxnContext): MutableMessage {
  const message = newUserMessage({ type: MessageType.Insert, ...(vchannel !== undefined ? { vchannel } : {}), payload: Buffer.from(tag) });
  return txn === undefined ? message : message.withTxnContext(txn);
}
