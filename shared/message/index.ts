export { MAX_UINT64, MAX_INT64, MIN_INT64, encodeUint64, encodeInt64, decodeUint64, decodeInt64, isBase36Uint64 } from './base36.js';
export { WalName, parseWalName } from './wal-name.js';
export { MessageId, type MessageIdProto, type MessageIdProtoLike, compareMessageIds } from './message-id.js';
export {
  MessageType,
  MessageVersion,
  isKnownMessageType,
  messageTypeName,
  marshalMessageType,
  parseMessageType,
  parseMessageTypeNumber,
  messageTypeFromProto,
  messageTypeVersion,
  isSystemMessageType,
  isSelfControlledMessageType,
  isExclusiveRequiredMessageType,
  isCipherEnabledMessageType,
  isTxnControlMessageType,
} from './message-type.js';
export {
  PropertyKey,
  type Properties,
  FLAG_VALUE,
  RESERVED_PROPERTY_KEYS,
  PRODUCER_PROPERTY_KEYS,
  NODE_PROPERTY_KEYS,
  isReservedPropertyKey,
  hasProperty,
  getProperty,
  userProperties,
  encodeUint64Property,
  decodeUint64Property,
  encodeInt64Property,
  decodeInt64Property,
  decodeDecimalProperty,
  encodeBase64Property,
  decodeBase64Property,
  isStrictBase64,
  checkFlagProperty,
} from './properties.js';
export {
  validateProducerProperties,
  validateProducerVChannel,
  validateUserProperties,
  type ProducerMessageInfo,
} from './property-validation.js';
export {
  type TxnContext,
  type TxnContextProto,
  NON_TXN_ID,
  TXN_KEEPALIVE_INFINITE_MS,
  MIN_TXN_KEEPALIVE_MS,
  DEFAULT_TXN_KEEPALIVE_MS,
  TxnState,
  txnContext,
  isInfiniteKeepalive,
  txnContextToProto,
  txnContextFromProto,
  txnContextEquals,
  txnStateName,
} from './txn.js';
export {
  ResourceDomain,
  type ResourceKey,
  DEFAULT_DB_NAME,
  collectionNameResourceKey,
  dbNameResourceKey,
  clusterResourceKey,
  privilegeResourceKey,
  resourceKeyToString,
  dedupeResourceKeys,
} from './resource-key.js';
export {
  type BroadcastHeader,
  type BroadcastHeaderProto,
  broadcastHeaderToProto,
  broadcastHeaderFromProto,
} from './broadcast-header.js';
export { Message, type MessageProto } from './message.js';
export { MutableMessage, type MessageProtoLike } from './mutable-message.js';
export { ImmutableMessage, type ImmutableMessageProto, type ImmutableMessageProtoLike } from './immutable-message.js';
export {
  newUserMessage,
  newTimeTickMessage,
  newBeginTxnMessage,
  newCommitTxnMessage,
  newRollbackTxnMessage,
  readBeginTxnKeepaliveMs,
  type UserMessageOptions,
  type TimeTickMessageOptions,
  type BeginTxnMessageOptions,
  type EndTxnMessageOptions,
} from './builders.js';
export { newBroadcastMessage, withBroadcastId, splitBroadcast, type BroadcastMessageOptions } from './broadcast.js';
export {
  CONTROL_CHANNEL_SUFFIX,
  DEFAULT_CLUSTER_PREFIX,
  DEFAULT_PCHANNEL_COUNT,
  type ParsedVChannel,
  pchannelName,
  pchannelNames,
  vchannelName,
  controlChannelName,
  isControlChannel,
  isPChannelName,
  pchannelOfVChannel,
  pchannelOfChannel,
  validateVChannelName,
  validatePChannelName,
  parseVChannelName,
  pchannelIndex,
} from './channel-names.js';
export {
  type AccessMode,
  type PChannelInfo,
  INITIAL_TERM,
  pchannelInfo,
  formatPChannelInfo,
  pchannelInfoToProto,
  pchannelInfoFromProto,
} from './pchannel-info.js';
export {
  type DeliverPolicy,
  type DeliverFilter,
  deliverAll,
  deliverLatest,
  deliverStartFrom,
  deliverStartAfter,
  filterMessageTypes,
  deliverPolicyToProto,
  deliverPolicyFromProto,
  deliverFilterToProto,
  deliverFilterFromProto,
} from './deliver.js';
