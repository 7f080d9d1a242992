/**
 * What a coordinator's election reports. A state is immutable; the election publishes a new one
 * on every change (see `CoordinatorElection.states$`).
 */
import type { ElectionLeader } from './election-key.js';

/**
 * - `starting`: `start()` not called or not yet through its first attempt.
 * - `campaigning`: between sessions, or the compare-and-swap on the election key is in flight
 *   (also after a failed attempt, while waiting to retry).
 * - `standby`: another coordinator holds the key; this one watches it and campaigns when it is
 *   deleted (the holder's lease revoked or expired).
 * - `active`: this coordinator holds the key. `signal` aborts, with the reason, as soon as the
 *   leadership ends (session lost or closed, key deleted or taken); whatever the active one runs
 *   must stop then. A later win comes with a new state and a new signal.
 * - `closed`: `close()` finished; the session lease is revoked.
 */
export type ElectionState =
  | { readonly role: 'starting' }
  | { readonly role: 'campaigning'; readonly serverId: bigint | undefined; readonly leader: ElectionLeader | undefined }
  | { readonly role: 'standby'; readonly serverId: bigint; readonly leader: ElectionLeader | undefined }
  | { readonly role: 'active'; readonly serverId: bigint; readonly leader: ElectionLeader; readonly signal: AbortSignal }
  | { readonly role: 'closed' };

/** The roles of {@link ElectionState}. */
export type ElectionRole = ElectionState['role'];

/** The leader a state knows of (itself when active), if any. */
export function leaderOf(state: ElectionState): ElectionLeader | undefined {
  return state.role === 'active' || state.role === 'standby' || state.role === 'campaigning' ? state.leader : undefined;
}

/** This coordinator's server id in a state, if it has a session. */
export function serverIdOf(state: ElectionState): bigint | undefined {
  return state.role === 'active' || state.role === 'standby' || state.role === 'campaigning' ? state.serverId : undefined;
}

/** Same server id and address (both undefined counts as same). */
export function sameLeader(a: ElectionLeader | undefined, b: ElectionLeader | undefined): boolean {
  return a?.serverId === b?.serverId && a?.address === b?.address;
}
