import { StreamingError } from '../errors/index.js';
import { MAX_UINT64 } from './base36.js';
import type { BroadcastHeader } from './broadcast-header.js';
import { buildMessage } from './builders.js';
import { pchannelOfChannel, validateVChannelName } from './channel-names.js';
import { patchProperties } from './message.js';
import {
  isKnownMessageType,
  isSelfControlledMessageType,
  isSystemMessageType,
  type MessageType,
  messageTypeName,
} from './message-type.js';
import { MutableMessage } from './mutable-message.js';
import { FLAG_VALUE, hasProperty, PropertyKey } from './properties.js';
import { encodeBroadcastHeaderValue } from './proto-values.js';
import { dedupeResourceKeys, type ResourceKey } from './resource-key.js';

/** Options of {@link newBroadcastMessage}. */
export interface BroadcastMessageOptions {
  readonly type: MessageType;
  /** Target vchannels; duplicates are dropped, order kept. At least one. */
  readonly vchannels: readonly string[];
  /** The type's header proto, already encoded. */
  readonly header?: Uint8Array;
  readonly payload: Uint8Array;
  /** User properties; keys must not start with `_`. */
  readonly properties?: Readonly<Record<string, string>>;
  /** Locks the broadcaster holds while the broadcast is in flight (deduplicated). */
  readonly resourceKeys?: readonly ResourceKey[];
  /** Wait for every vchannel's ack before the broadcast is done. */
  readonly ackSyncUp?: boolean;
  /**
   * A cluster-level broadcast: targets may be pchannel names, and every copy carries `_pcl`.
   */
  readonly pchannelLevel?: boolean;
}

/**
 * Builds an unsplit broadcast message: `_bh` holds the deduplicated vchannels, broadcast id 0
 * (the coordinator assigns one with {@link withBroadcastId}), resource keys and ack_sync_up; there
 * is no `_vc` until {@link splitBroadcast}.
 */
export function newBroadcastMessage(options: BroadcastMessageOptions): MutableMessage {
  const { type } = options;
  if (!isKnownMessageType(type) || isSelfControlledMessageType(type) || isSystemMessageType(type)) {
    throw StreamingError.invalidArgument('message type', `${messageTypeName(type)} cannot be broadcast`);
  }
  const vchannels = [...new Set(options.vchannels)];
  if (vchannels.length === 0) throw StreamingError.invalidArgument('broadcast vchannels', 'must not be empty');
  for (const vchannel of vchannels) {
    if (options.pchannelLevel === true) pchannelOfChannel(vchannel, 'broadcast vchannel');
    else validateVChannelName(vchannel, 'broadcast vchannel');
  }
  const header: BroadcastHeader = {
    broadcastId: 0n,
    vchannels,
    resourceKeys: dedupeResourceKeys(options.resourceKeys ?? []),
    ackSyncUp: options.ackSyncUp ?? false,
  };
  const extra: Record<string, string> = { [PropertyKey.BroadcastHeader]: encodeBroadcastHeaderValue(header) };
  if (options.pchannelLevel === true) extra[PropertyKey.PChannelLevel] = FLAG_VALUE;
  return buildMessage(type, undefined, options.header, options.payload, options.properties ?? {}, extra);
}

/**
 * Returns the broadcast with its id set in `_bh`.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming `_bh` if the message is not a broadcast, the id
 *   is already set, or `id` is 0 or outside uint64.
 */
export function withBroadcastId(message: MutableMessage, id: bigint): MutableMessage {
  const header = requireHeader(message);
  if (header.broadcastId !== 0n) {
    throw StreamingError.invalidArgument(PropertyKey.BroadcastHeader, `broadcast id is already set (${header.broadcastId})`);
  }
  if (id <= 0n || id > MAX_UINT64) throw StreamingError.invalidArgument('broadcast id', `must be in [1, 2^64), got ${id}`);
  const value = encodeBroadcastHeaderValue({ ...header, broadcastId: id });
  return message.withProperties({ [PropertyKey.BroadcastHeader]: value });
}

/**
 * Splits a broadcast into one message per target vchannel, in `_bh` order: same payload (shared,
 * never modified), all properties copied, `_vc` set to that vchannel, `_bh` kept so consumers can
 * ack. Requires an assigned broadcast id, as Milvus does.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming `_bh` if the message is not an unsplit
 *   broadcast, has no vchannels or no broadcast id, or lists a vchannel twice.
 */
export function splitBroadcast(message: MutableMessage): MutableMessage[] {
  const header = requireHeader(message);
  if (hasProperty(message.properties, PropertyKey.VChannel)) {
    throw StreamingError.invalidArgument(PropertyKey.VChannel, 'is already set: this broadcast message was split before');
  }
  if (header.vchannels.length === 0) throw StreamingError.invalidArgument(PropertyKey.BroadcastHeader, 'has no vchannels');
  if (header.broadcastId === 0n) {
    throw StreamingError.invalidArgument(PropertyKey.BroadcastHeader, 'has no broadcast id yet (withBroadcastId first)');
  }
  const seen = new Set<string>();
  return header.vchannels.map((vchannel) => {
    if (seen.has(vchannel)) {
      throw StreamingError.invalidArgument(PropertyKey.BroadcastHeader, `lists vchannel ${JSON.stringify(vchannel)} twice`);
    }
    seen.add(vchannel);
    return MutableMessage.fromOwned(message.payload, patchProperties(message.properties, { [PropertyKey.VChannel]: vchannel }));
  });
}

function requireHeader(message: MutableMessage): BroadcastHeader {
  const header = message.broadcastHeader;
  if (header === undefined) throw StreamingError.invalidArgument(PropertyKey.BroadcastHeader, 'missing: not a broadcast message');
  return header;
}
