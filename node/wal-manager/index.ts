/**
 * The node's WAL manager: per pchannel a `(term, available)` state machine that opens and closes
 * WALs in term order (DESIGN.md §6, layer 1).
 */
export type { BorrowedWal, ManagedWal, WalOpener, WalOpenOptions } from './managed-wal.js';
export { WalManager } from './wal-manager.js';
export type { WalManagerCallOptions, WalManagerOptions } from './wal-manager.js';
export { WalLifetime } from './wal-lifetime.js';
export type { WalLifetimeCallOptions, WalLifetimeOptions } from './wal-lifetime.js';
export { formatWalState, isStateBefore } from './wal-state.js';
export type { WalState } from './wal-state.js';
