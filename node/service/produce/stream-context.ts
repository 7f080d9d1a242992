/**
 * What a Produce or Consume stream needs from the node: the WALs, the server id, the limits, a
 * logger, and the signal of the service shutting down.
 */
import type { Logger, PChannelInfo } from '../../../shared/index.js';
import type { Wal } from '../../wal/index.js';
import type { HandlerLimits } from './handler-limits.js';

/** The slice of a WAL the handler streams use (a `BorrowedWal<Wal>` from the manager fits). */
export type HandlerWal = Pick<Wal, 'channel' | 'availability' | 'isAvailable' | 'append' | 'read'>;

/** Where streams find their WAL (the node's `WalManager` fits). */
export interface HandlerWalSource {
  /**
   * The WAL serving `channel` at exactly its term.
   *
   * @throws StreamingError CHANNEL_NOT_EXIST, UNMATCHED_CHANNEL_TERM, ON_SHUTDOWN.
   */
  getAvailableWal(channel: PChannelInfo): HandlerWal;
}

/** Per-service dependencies of every stream. */
export interface StreamContext {
  /** The WAL source serving now (the node may swap managers after a self-fence). @throws ON_SHUTDOWN when there is none. */
  readonly wals: () => HandlerWalSource;
  /** Sent in the `create` frame; 0 before the node registered. */
  readonly serverId: () => bigint;
  readonly limits: HandlerLimits;
  readonly logger: Logger;
  /** Aborted (ON_SHUTDOWN) when the service stops: every stream ends with that reason. */
  readonly shutdown: AbortSignal;
}
