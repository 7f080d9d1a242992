/**
 * The public surface of `coord/election/`: active/standby election of coordinators through a
 * lease-backed key in the meta store.
 */
export { CoordinatorElection, DEFAULT_ELECTION_RETRY_BACKOFF } from './coordinator-election.js';
export type { CoordinatorElectionOptions } from './coordinator-election.js';
export { coordinatorElectionKey, decodeElectionLeader } from './election-key.js';
export type { ElectionLeader } from './election-key.js';
export { leaderOf, sameLeader, serverIdOf } from './election-state.js';
export type { ElectionRole, ElectionState } from './election-state.js';
export { watchKey } from './watch-key.js';
export type { WatchKeyOptions } from './watch-key.js';
