/** The public surface of `coord/channel/`: the pchannel state machine and the channel manager. */
export { ChannelManager } from './channel-manager.js';
export type { ChannelManagerOptions, ExpectedAssignment, MutationOptions } from './channel-manager.js';
export { STREAMING_VERSION_ENABLED } from './channel-recovery.js';
export { assignmentsOf, compareNames, layoutOf, makeSnapshot } from './channel-snapshot.js';
export type { AssignmentsView, ChannelLayoutView, ChannelManagerSnapshot, NodeAssignments } from './channel-snapshot.js';
export {
  NEW_PCHANNEL_TERM,
  assignHistories,
  assignToServerDone,
  currentAssignment,
  formatPChannelMeta,
  formatStreamingNode,
  isAssigned,
  markAsUnavailable,
  newPChannelMeta,
  tryAssignToServerId,
} from './pchannel-meta.js';
export type { PChannelAssignment, TransitionResult } from './pchannel-meta.js';
export { compareVersionPairs, formatVersionPair, isNewerVersion, versionPair } from './version-pair.js';
export type { VersionPair } from './version-pair.js';
