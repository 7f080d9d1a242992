/**
 * The public surface of `coord/`: the coordinator server (composition root), its process entry,
 * and the election. `cli/` (`walctl coord`, `walctl standalone`) imports from here.
 */
export {
  CoordinatorServer,
  DEFAULT_COORD_SHUTDOWN_TIMEOUT_MS,
  type CoordinatorServerInfo,
  type CoordinatorServerOptions,
  type CoordinatorTuning,
} from './server.js';
export type { ActiveEpochComponents, ActiveEpochTuning } from './active-epoch.js';
export { DEFAULT_EPOCH_RETRY_BACKOFF } from './epoch-driver.js';
export { embeddedCoordMetaDir, type CoordMetaStoreSpec } from './server-resources.js';
export { coordinatorReadyFields, runCoordinator, runCoordinatorMain, type RunCoordinatorMainOptions, type RunCoordinatorOptions } from './main.js';
export { coordMetaStoreFor, coordOverrides, type CoordFlags } from './main-flags.js';
export {
  CoordinatorElection,
  DEFAULT_ELECTION_RETRY_BACKOFF,
  coordinatorElectionKey,
  type CoordinatorElectionOptions,
  type ElectionLeader,
  type ElectionState,
} from './election/index.js';
