/**
 * Shared by the interceptor tests: messages, a fake clock TSO, a gate to hold backend appends,
 * and a small WAL built from the real pieces (memory backend, first time tick, ack manager,
 * write-ahead buffer, txn manager, lock + time tick interceptors, sync operator).
 */
import { MemoryWalBackendOpener, type WalBackend } from '../../../../../node/wal/backend/index.js';
import {
  appendFirstTimeTick,
  type BackendRetry,
  type ExtraAppendResult,
  type Interceptor,
  InterceptorChain,
  LockInterceptor,
  newAppendContext,
  TimeTickInterceptor,
  TimeTickSyncOperator,
  TxnManager,
  type TxnManagerOptions,
} from '../../../../../node/wal/interceptors/index.js';
import { AckManager, WriteAheadBuffer } from '../../../../../node/wal/utility/index.js';
import {
  deliverAll,
  type ImmutableMessage,
  type MessageId,
  MessageType,
  type MutableMessage,
  newBeginTxnMessage,
  newCommitTxnMessage,
  newRollbackTxnMessage,
  newUserMessage,
  pchannelInfo,
  pchannelName,
  type TxnContext,
  vchannelName,
} from '../../../../../shared/message/index.js';
import { LocalTsoAllocator } from '../../../../../shared/tso/index.js';
import { Deferred } from '../../../../../shared/util/index.js';

export const PCHANNEL = pchannelName('by-dev-rootcoord-dml', 0);
export const V1 = vchannelName(PCHANNEL, 100, 0);
export const V2 = vchannelName(PCHANNEL, 200, 0);

/** A normal (non-exclusive) message. */
export function insert(vchannel: string | undefined = V1, text = 'row'): MutableMessage {
  return newUserMessage({ type: MessageType.Insert, ...(vchannel === undefined ? {} : { vchannel }), payload: Buffer.from(text) });
}

/** An exclusive-required message (DDL); no vchannel = pchannel-wide. */
export function ddl(vchannel?: string): MutableMessage {
  return newUserMessage({ type: MessageType.CreateCollection, ...(vchannel === undefined ? {} : { vchannel }), payload: Buffer.alloc(0) });
}

/** BeginTxn on `vchannel`. */
export function beginTxn(vchannel = V1, keepaliveMs: number | bigint = 10_000): MutableMessage {
  return newBeginTxnMessage({ vchannel, keepaliveMs });
}

/** CommitTxn of `txn` (no `_tx` when undefined). */
export function commitTxn(txn: TxnContext | undefined, vchannel = V1): MutableMessage {
  return newCommitTxnMessage({ vchannel, ...(txn ? { txn } : {}) });
}

/** RollbackTxn of `txn`. */
export function rollbackTxn(txn: TxnContext | undefined, vchannel = V1): MutableMessage {
  return newRollbackTxnMessage({ vchannel, ...(txn ? { txn } : {}) });
}

/** An Insert inside `txn`. */
export function txnBody(txn: TxnContext | undefined, vchannel = V1): MutableMessage {
  const message = insert(vchannel, 'txn-row');
  return txn === undefined ? message : message.withTxnContext(txn);
}

/** True once `promise` settled, after letting pending callbacks run (no timers involved). */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await turn();
  return settled;
}

/** One macrotask turn. */
/** An interceptor whose settle hook throws 'hook bug' (a bug the chain must contain). */
export function throwingHookInterceptor(name: string): Interceptor {
  return {
    name,
    doAppend(message, ctx, next) {
      ctx.onSettled(
        {
          appendSettled: () => {
            throw new Error('hook bug');
          },
        },
        undefined,
      );
      return next(message, ctx);
    },
    close: () => undefined,
  };
}

export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** StreamingError code assertions (shared with the other suites). */
export { expectCode, expectThrowsCode } from '../../../../harness/expect-code.js';

/** A wall clock the test moves by hand. */
export class FakeClock {
  ms = 1_700_000_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/**
 * Wraps a backend so chosen appends wait until released: `hold(pred)` makes matching appends
 * park (in call order) until `releaseNext()` / `releaseAll()`.
 */
export class GatedBackend {
  readonly #inner: WalBackend;
  readonly #parked: Deferred<void>[] = [];
  #predicate: ((m: MutableMessage) => boolean) | undefined;
  appendCalls = 0;

  constructor(inner: WalBackend) {
    this.#inner = inner;
  }

  get parkedCount(): number {
    return this.#parked.length;
  }

  hold(predicate: (m: MutableMessage) => boolean): void {
    this.#predicate = predicate;
  }

  /** Stops parking new appends (parked ones stay parked). */
  stopHolding(): void {
    this.#predicate = undefined;
  }

  releaseAt(index: number): void {
    const [gate] = this.#parked.splice(index, 1);
    gate?.resolve();
  }

  /** Fails every parked append with `error` (the backend is never called for them). */
  failParked(error: Error): void {
    for (const gate of this.#parked.splice(0)) gate.reject(error);
  }

  releaseAll(): void {
    for (const gate of this.#parked.splice(0)) gate.resolve();
  }

  readonly append = async (message: MutableMessage): Promise<ImmutableMessage> => {
    this.appendCalls++;
    if (this.#predicate?.(message) === true) {
      const gate = new Deferred<void>();
      this.#parked.push(gate);
      await gate.promise;
    }
    const inner = this.#inner;
    return inner.appendStored !== undefined ? inner.appendStored(message) : message.intoImmutable(await inner.append(message));
  };
}

/** Options of {@link openTestWal}. */
export interface TestWalOptions {
  /** Scheduled syncs run (default false: tests call `operator.sync()` themselves). */
  readonly start?: boolean;
  readonly idleIntervalMs?: number;
  readonly syncDelayMs?: number;
  readonly txn?: Omit<TxnManagerOptions, 'uncommitted'>;
  readonly gracefulCloseTimeoutMs?: number;
  /** The chain's retry of a failed backend write (none by default). */
  readonly retryAppend?: BackendRetry;
}

/** The pieces of a small read-write WAL, composed as the adaptor will. */
export interface TestWal {
  readonly clock: FakeClock;
  readonly tso: LocalTsoAllocator;
  readonly backend: WalBackend;
  readonly gate: GatedBackend;
  readonly first: ImmutableMessage;
  readonly acks: AckManager;
  readonly wab: WriteAheadBuffer;
  readonly txns: TxnManager;
  readonly operator: TimeTickSyncOperator;
  readonly timeTick: TimeTickInterceptor;
  readonly chain: InterceptorChain;
  append(message: MutableMessage, signal?: AbortSignal): Promise<{ id: MessageId; result: ExtraAppendResult }>;
  /** Every message in the backend, in id order. */
  readAll(): Promise<ImmutableMessage[]>;
  close(): Promise<void>;
}

export async function openTestWal(options: TestWalOptions = {}): Promise<TestWal> {
  const clock = new FakeClock();
  const tso = new LocalTsoAllocator({ now: clock.now });
  const opener = new MemoryWalBackendOpener();
  const backend = await opener.open(pchannelInfo(PCHANNEL, 1n));
  const gate = new GatedBackend(backend);
  const first = await appendFirstTimeTick(backend, tso);
  const acks = new AckManager({ tso, lastConfirmedTimeTick: first.timeTick, lastConfirmedMessageId: first.messageId });
  const wab = new WriteAheadBuffer({ capacityBytes: 64 << 20, keepaliveMs: 30_000, firstTimeTickMessage: first });
  const txns = new TxnManager(options.txn);
  let chain: InterceptorChain | undefined;
  const operator = new TimeTickSyncOperator({
    ackManager: acks,
    writeAheadBuffer: wab,
    idleIntervalMs: options.idleIntervalMs ?? 60_000,
    syncDelayMs: options.syncDelayMs ?? 1,
    appendTimeTick: (message, { notPersisted, signal }) =>
      (chain as InterceptorChain).append(message, newAppendContext({ notPersisted, signal })),
  });
  const timeTick = new TimeTickInterceptor({
    ackManager: acks,
    txnManager: txns,
    operator,
    ...(options.gracefulCloseTimeoutMs === undefined ? {} : { gracefulCloseTimeoutMs: options.gracefulCloseTimeoutMs }),
  });
  chain = new InterceptorChain({
    interceptors: [new LockInterceptor({ txnManager: txns }), timeTick],
    append: gate.append,
    ...(options.retryAppend === undefined ? {} : { retryAppend: options.retryAppend }),
  });
  if (options.start === true) operator.start();
  const built = chain;
  return {
    clock,
    tso,
    backend,
    gate,
    first,
    acks,
    wab,
    txns,
    operator,
    timeTick,
    chain: built,
    async append(message, signal) {
      const ctx = newAppendContext({ signal });
      const stored = await built.append(message, ctx);
      return { id: stored.messageId, result: ctx.result };
    },
    async readAll() {
      const out: ImmutableMessage[] = [];
      const last = backend.latestMessageId();
      if (last === undefined) return out;
      const scanner = backend.read({ name: 'test', deliverPolicy: deliverAll() });
      for await (const m of scanner) {
        out.push(m);
        if (m.messageId.equals(last)) break;
      }
      await scanner.close();
      return out;
    },
    async close() {
      gate.stopHolding();
      gate.releaseAll();
      await built.close();
      await opener.close();
    },
  };
}
