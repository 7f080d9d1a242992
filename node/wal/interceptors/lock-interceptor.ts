/**
 * The lock interceptor (Milvus `lock`, reference/milvus-node.md §3.3): serialises exclusive
 * messages (DDL-like types) against everything else on their vchannel, or on the whole pchannel
 * when they have no vchannel.
 */
import { type ImmutableMessage, isExclusiveRequiredMessageType, type MutableMessage } from '../../../shared/index.js';
import type { AppendContext, SettleHook } from './append-context.js';
import type { AppendFn, Interceptor } from './interceptor.js';
import { KeyedRwLock, type Release, RwLock } from './rw-lock.js';

/** What the lock interceptor needs from the transaction manager. */
export interface TxnFailer {
  /** Fails the open transactions of `vchannel`, of every vchannel when undefined. */
  failTxnAtVChannel(vchannel: string | undefined): void;
}

/** Releases the locks of a settled append taken on the waiting path (state: their release). */
const RELEASE_ON_SETTLE: SettleHook<Release> = {
  appendSettled: (release) => release(),
};

/** Options of {@link LockInterceptor}. */
export interface LockInterceptorOptions {
  readonly txnManager: TxnFailer;
}

/**
 * Locks, always taken global first, then vchannel (so no two appends can wait on each other in a
 * cycle):
 *
 * | message                              | global lock | vchannel lock |
 * |--------------------------------------|-------------|---------------|
 * | exclusive, no vchannel               | write       | –             |
 * | exclusive, vchannel `v`              | read        | write on `v`  |
 * | anything else (vchannel `v` or none) | read        | read on `v`   |
 *
 * Milvus takes no global lock for an exclusive message with a vchannel; taking the read side here
 * also orders it against pchannel-wide exclusive messages, and costs nothing otherwise.
 *
 * The lock sits outside the time tick interceptor, so an exclusive message gets its time tick
 * while it holds the lock: it is totally ordered against its vchannel's other messages. When an
 * exclusive lock is released (also after a failed append, as Milvus does) the open transactions
 * of the vchannel (of all vchannels for a global one) are failed, so no transaction commits
 * across the exclusive message; clients get TRANSACTION_EXPIRED and retry with a new one.
 *
 * Waiting for a lock honours the append's signal.
 */
export class LockInterceptor implements Interceptor {
  readonly name = 'lock';
  readonly #global = new RwLock();
  readonly #vchannels = new KeyedRwLock();
  readonly #txnManager: TxnFailer;
  /** Appends inside {@link #acquire} (waiting, or about to be granted after an `await`). */
  #acquiring = 0;

  constructor(options: LockInterceptorOptions) {
    this.#txnManager = options.txnManager;
  }

  /** Number of vchannels whose lock is in use (for tests and metrics). */
  get lockedVChannelCount(): number {
    return this.#vchannels.size;
  }

  doAppend(message: MutableMessage, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage> {
    const key = message.vchannel ?? '';
    if (!this.#tryLockShared(message, key, ctx.signal)) return this.#appendLocked(message, ctx, next);
    // Uncontended: hand the inner promise straight back (no frame, no reaction of our own). The
    // chain releases the locks once the append settles, before the caller resumes.
    ctx.onSettled(this.#unlockSharedOnSettle, key);
    return next(message, ctx);
  }

  close(): void {
    // Nothing to release: every lock is released by the append that took it.
  }

  /**
   * The common case without waiting: a non-exclusive message whose locks are free of writers and
   * waiters takes both read sides at once, exactly as {@link #acquire} would grant them, minus
   * the promises and release closures. False = take the waiting path. Never while an earlier
   * append is inside {@link #acquire}: it takes the vchannel lock only after awaiting the global
   * one, and an append arriving later must not get ahead of it (locks are granted in arrival
   * order). True must be paired with one {@link #unlockSharedOnSettle}.
   */
  #tryLockShared(message: MutableMessage, key: string, signal: AbortSignal | undefined): boolean {
    if (this.#acquiring > 0 || signal?.aborted || isExclusiveRequiredMessageType(message.messageType)) return false;
    if (!this.#global.tryLockRead()) return false;
    if (!this.#vchannels.tryLockRead(key)) {
      // Nobody waits on the global lock (it just granted a read at once), so this undo is invisible.
      this.#global.unlockRead();
      return false;
    }
    return true;
  }

  /** Undoes {@link #tryLockShared} of the settled append (state: its vchannel key). Cannot throw. */
  readonly #unlockSharedOnSettle: SettleHook<string> = {
    appendSettled: (key) => {
      this.#vchannels.unlockRead(key);
      this.#global.unlockRead();
    },
  };

  /**
   * The waiting path: acquire (in arrival order), append; the locks go when the append settles,
   * like the fast path's (so, both ways, an inner interceptor's hooks run before the release).
   */
  async #appendLocked(message: MutableMessage, ctx: AppendContext, next: AppendFn): Promise<ImmutableMessage> {
    const release = await this.#acquireCounted(message, ctx.signal);
    ctx.onSettled(RELEASE_ON_SETTLE, release);
    return next(message, ctx);
  }

  async #acquireCounted(message: MutableMessage, signal: AbortSignal | undefined): Promise<Release> {
    this.#acquiring++;
    try {
      return await this.#acquire(message, signal);
    } finally {
      this.#acquiring--;
    }
  }

  async #acquire(message: MutableMessage, signal: AbortSignal | undefined): Promise<Release> {
    const vchannel = message.vchannel;
    const exclusive = isExclusiveRequiredMessageType(message.messageType);
    if (exclusive && vchannel === undefined) {
      const releaseGlobal = await this.#global.acquireWrite({ signal });
      return () => {
        try {
          this.#txnManager.failTxnAtVChannel(undefined);
        } finally {
          releaseGlobal();
        }
      };
    }
    const releaseGlobal = await this.#global.acquireRead({ signal });
    const key = vchannel ?? '';
    let releaseVChannel: Release;
    try {
      releaseVChannel = exclusive
        ? await this.#vchannels.acquireWrite(key, { signal })
        : await this.#vchannels.acquireRead(key, { signal });
    } catch (error) {
      releaseGlobal();
      throw error;
    }
    return () => {
      // Fail while still holding the lock: no append of the vchannel can slip in between. The
      // locks go even if that fails (a bug, logged by the chain).
      try {
        if (exclusive) this.#txnManager.failTxnAtVChannel(vchannel);
      } finally {
        releaseVChannel();
        releaseGlobal();
      }
    };
  }
}
