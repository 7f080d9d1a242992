/**
 * The slice of a WAL the manager needs, and how it gets one. The real WAL adaptor (node/wal/)
 * satisfies these structurally, so the manager stays generic over it (`WalManager<W>`) and can be
 * tested with an in-memory fake.
 */
import type { PChannelInfo } from '../../shared/message/index.js';

/**
 * A WAL as the manager sees it: it knows its pchannel and term, can tell whether it still accepts
 * work, and can be closed (by the manager only; see {@link BorrowedWal}).
 */
export interface ManagedWal {
  /** The pchannel and term the WAL was opened at. */
  readonly channel: PChannelInfo;
  /**
   * False once the WAL stopped serving on its own (fenced by a newer owner) or began closing.
   * A WAL that turned unavailable stays registered in the manager until the coordinator removes
   * it or assigns a newer term (Milvus keeps it "present" the same way).
   */
  isAvailable(): boolean;
  /** Releases the WAL. Called exactly once, by the manager's background task or its close. */
  close(): Promise<void>;
}

/** Options of {@link WalOpener.open}. */
export interface WalOpenOptions {
  /**
   * Aborted when the manager (or the pchannel's lifetime) shuts down. It is deliberately not the
   * signal of the Assign call that asked for the open: recovery must be able to outlive an RPC
   * deadline (Milvus issues #46370 / #51078), so only shutdown interrupts it.
   */
  readonly signal: AbortSignal;
}

/** Opens a WAL for a pchannel at a term (recovery included); Milvus `wal.Opener`. */
export interface WalOpener<W extends ManagedWal = ManagedWal> {
  /**
   * Opens `channel`. Resolves with a WAL whose `channel` is `channel`; rejects if it cannot be
   * opened. Should reject promptly with the abort reason when `options.signal` aborts.
   */
  open(channel: PChannelInfo, options: WalOpenOptions): Promise<W>;
}

/**
 * A WAL handed out by the manager: everything but `close()`, because the manager alone owns the
 * WAL's lifetime (Milvus wraps it in `nopCloseWAL` for the same reason).
 */
export type BorrowedWal<W extends ManagedWal> = Omit<W, 'close'>;
