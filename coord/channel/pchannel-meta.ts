/**
 * Pure, copy-on-write transitions of a {@link PChannelMeta} (Milvus `channel/pchannel.go`,
 * reference `milvus-coord.md` §2.2). Every function returns a new frozen object and never touches
 * its input, so the channel manager can persist the copy first and swap it into memory only after
 * the save succeeded.
 *
 * ```
 * UNINITIALIZED --tryAssign--> ASSIGNING(term+1, no history)
 * ASSIGNING     --tryAssign--> ASSIGNING(term+1, +history of the previous attempt)
 * ASSIGNING     --assignDone--> ASSIGNED (histories cleared, lastAssign = now)
 * ASSIGNED      --tryAssign(other node or mode)--> ASSIGNING(term+1, +history)
 * ASSIGNED      --markAsUnavailable(same term)--> UNAVAILABLE
 * UNAVAILABLE   --tryAssign(any node, even the same)--> ASSIGNING(term+1, +history)
 * ```
 */
import { formatPChannelInfo, pchannelInfo } from '../../shared/index.js';
import type { AccessMode, PChannelInfo } from '../../shared/index.js';
import { PChannelMetaState } from '../catalog/index.js';
import type { PChannelAssignmentLog, PChannelMeta, StreamingNodeInfo } from '../catalog/index.js';

/** Milvus starts every pchannel at term 1; the first assignment opens term 2. */
export const NEW_PCHANNEL_TERM = 1n;

/** Result of {@link tryAssignToServerId}: the (possibly) new meta and whether it differs. */
export interface TransitionResult {
  readonly meta: PChannelMeta;
  readonly changed: boolean;
}

/** A pchannel at one of its terms on one node: what `Assign`/`Remove` RPCs carry. */
export interface PChannelAssignment {
  readonly channel: PChannelInfo;
  readonly node: StreamingNodeInfo;
}

/** A never-assigned pchannel: term 1, UNINITIALIZED, no node, no history. */
export function newPChannelMeta(name: string, accessMode: AccessMode): PChannelMeta {
  return freezeMeta({
    channel: pchannelInfo(name, NEW_PCHANNEL_TERM, accessMode),
    node: undefined,
    state: PChannelMetaState.UNINITIALIZED,
    histories: [],
    lastAssignTimestampSeconds: 0n,
  });
}

/** Only ASSIGNED channels are served: they alone appear in discovery and in the balancer layout. */
export function isAssigned(meta: PChannelMeta): boolean {
  return meta.state === PChannelMetaState.ASSIGNED;
}

/**
 * Starts (re)assigning `meta` to `node` with `accessMode`: phase 1 of the two-phase move.
 *
 * A no-op (`changed: false`, same object) when the channel is already ASSIGNED to that server
 * with that access mode. Otherwise the current `(term, node, mode)` joins the histories (unless
 * UNINITIALIZED: nothing was ever opened), the term grows by one and the state becomes ASSIGNING.
 * The term grows on *every* attempt, also a retry on the same node, so a node still holding an
 * older attempt is fenced by term order.
 */
export function tryAssignToServerId(meta: PChannelMeta, accessMode: AccessMode, node: StreamingNodeInfo): TransitionResult {
  if (
    meta.state === PChannelMetaState.ASSIGNED &&
    meta.node?.serverId === node.serverId &&
    meta.channel.accessMode === accessMode
  ) {
    return { meta, changed: false };
  }
  let histories = meta.histories;
  // A non-UNINITIALIZED meta always has a node (every path into those states sets one); a meta read
  // from a damaged catalog might not, and a history without a node could never be removed anyway.
  if (meta.state !== PChannelMetaState.UNINITIALIZED && meta.node !== undefined) {
    const log: PChannelAssignmentLog = Object.freeze({
      term: meta.channel.term,
      node: meta.node,
      accessMode: meta.channel.accessMode,
    });
    histories = [...meta.histories, log];
  }
  const next = freezeMeta({
    channel: pchannelInfo(meta.channel.name, meta.channel.term + 1n, accessMode),
    node: Object.freeze({ serverId: node.serverId, address: node.address }),
    state: PChannelMetaState.ASSIGNING,
    histories,
    lastAssignTimestampSeconds: meta.lastAssignTimestampSeconds,
  });
  return { meta: next, changed: true };
}

/**
 * Completes an assignment (phase 2, after every history was removed and the new node opened the
 * term): ASSIGNED, histories cleared, `lastAssignTimestampSeconds = nowSeconds`. Only from
 * ASSIGNING; any other state returns the meta unchanged.
 */
export function assignToServerDone(meta: PChannelMeta, nowSeconds: bigint): TransitionResult {
  if (meta.state !== PChannelMetaState.ASSIGNING) return { meta, changed: false };
  const next = freezeMeta({
    ...meta,
    state: PChannelMetaState.ASSIGNED,
    histories: [],
    lastAssignTimestampSeconds: nowSeconds,
  });
  return { meta: next, changed: true };
}

/**
 * Marks the channel UNAVAILABLE (a client reported an error at `term`). Only an ASSIGNED channel
 * at exactly that term changes: a report about an older term is stale (the channel already moved)
 * and must not undo the newer assignment.
 */
export function markAsUnavailable(meta: PChannelMeta, term: bigint): TransitionResult {
  if (meta.state !== PChannelMetaState.ASSIGNED || meta.channel.term !== term) return { meta, changed: false };
  return { meta: freezeMeta({ ...meta, state: PChannelMetaState.UNAVAILABLE }), changed: true };
}

/** The current target as an `Assign` request would carry it; undefined while UNINITIALIZED. */
export function currentAssignment(meta: PChannelMeta): PChannelAssignment | undefined {
  if (meta.node === undefined) return undefined;
  return { channel: meta.channel, node: meta.node };
}

/** Earlier attempts that still need a `Remove` on their nodes, oldest first. */
export function assignHistories(meta: PChannelMeta): PChannelAssignment[] {
  return meta.histories.map((h) => ({ channel: pchannelInfo(meta.channel.name, h.term, h.accessMode), node: h.node }));
}

/** Log form of a node: `serverId@address`. */
export function formatStreamingNode(node: StreamingNodeInfo | undefined): string {
  return node === undefined ? '-' : `${node.serverId}@${node.address}`;
}

/**
 * Log form of a meta: `name:rw@3 ASSIGNING on 7@10.0.0.1:22222 <rw@2 on 4@…`, where each `<…`
 * is a history entry still to be removed (oldest first).
 */
export function formatPChannelMeta(meta: PChannelMeta): string {
  const head = `${formatPChannelInfo(meta.channel)} ${PChannelMetaState[meta.state] ?? meta.state} on ${formatStreamingNode(meta.node)}`;
  const tail = meta.histories.map((h) => ` <${h.accessMode}@${h.term} on ${formatStreamingNode(h.node)}`).join('');
  return head + tail;
}

function freezeMeta(meta: PChannelMeta): PChannelMeta {
  Object.freeze(meta.histories);
  return Object.freeze(meta);
}
