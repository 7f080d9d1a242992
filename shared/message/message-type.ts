import { StreamingError } from '../errors/index.js';

/**
 * `milvus.proto.messages.MessageType`: the number stored (in decimal) in property `_t`.
 * Numbers and names are the proto's; 39–46 are reserved for Milvus master-only types.
 */
export enum MessageType {
  Unknown = 0,
  TimeTick = 1,
  Insert = 2,
  Delete = 3,
  Flush = 4,
  CreateCollection = 5,
  DropCollection = 6,
  CreatePartition = 7,
  DropPartition = 8,
  ManualFlush = 9,
  CreateSegment = 10,
  Import = 11,
  /** Deprecated upstream: merged into AlterCollection. */
  SchemaChange = 12,
  AlterCollection = 13,
  AlterLoadConfig = 14,
  DropLoadConfig = 15,
  CreateDatabase = 16,
  AlterDatabase = 17,
  DropDatabase = 18,
  AlterAlias = 19,
  DropAlias = 20,
  RestoreRBAC = 21,
  AlterUser = 22,
  DropUser = 23,
  AlterRole = 24,
  DropRole = 25,
  AlterUserRole = 26,
  DropUserRole = 27,
  AlterPrivilege = 28,
  DropPrivilege = 29,
  AlterPrivilegeGroup = 30,
  DropPrivilegeGroup = 31,
  AlterResourceGroup = 32,
  DropResourceGroup = 33,
  CreateIndex = 34,
  AlterIndex = 35,
  DropIndex = 36,
  FlushAll = 37,
  TruncateCollection = 38,
  AlterRLSMetadata = 47,
  DropRLSMetadata = 48,
  AlterWAL = 700,
  AlterReplicateConfig = 800,
  BeginTxn = 900,
  CommitTxn = 901,
  RollbackTxn = 902,
  /** Exists only on the consume side: a committed transaction assembled by the scanner. */
  Txn = 999,
}

/**
 * Message format version, property `_v` (decimal): 0 = pre-streaming msgstream message,
 * 1 = body is still the legacy msgstream proto, 2 = body is a `*MessageBody` proto.
 */
export enum MessageVersion {
  Old = 0,
  V1 = 1,
  V2 = 2,
}

/** Types whose body is still a legacy msgstream proto (version 1); all others are version 2. */
const V1_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.TimeTick,
  MessageType.Insert,
  MessageType.Delete,
  MessageType.CreateCollection,
  MessageType.DropCollection,
  MessageType.CreatePartition,
  MessageType.DropPartition,
  MessageType.Import,
]);

/** Drive commit and consistency; never filtered out by a message-type filter. */
const SYSTEM_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.TimeTick,
  MessageType.BeginTxn,
  MessageType.CommitTxn,
  MessageType.RollbackTxn,
  MessageType.Txn,
]);

/** Produced by the WAL itself; a client may not send them. */
const SELF_CONTROLLED_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.TimeTick,
  MessageType.CreateSegment,
  MessageType.Flush,
]);

/** Appended alone on their vchannel, so their time tick order equals their MessageId order. */
const EXCLUSIVE_REQUIRED_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.CreateCollection,
  MessageType.DropCollection,
  MessageType.CreatePartition,
  MessageType.DropPartition,
  MessageType.ManualFlush,
  MessageType.SchemaChange,
  MessageType.AlterCollection,
  MessageType.FlushAll,
  MessageType.TruncateCollection,
  MessageType.AlterWAL,
  MessageType.AlterReplicateConfig,
]);

/** May carry an encrypted payload (`_ch`). */
const CIPHER_ENABLED_TYPES: ReadonlySet<MessageType> = new Set([MessageType.Insert, MessageType.Delete]);

const DECIMAL = /^[0-9]{1,10}$/;

/** True for a number this table knows (including Unknown). */
export function isKnownMessageType(value: number): value is MessageType {
  return typeof MessageType[value] === 'string';
}

/** The proto enum name of a type (`Insert`), or `MessageType(<n>)` for an unknown number. */
export function messageTypeName(type: MessageType): string {
  return MessageType[type] ?? `MessageType(${type})`;
}

/** The `_t` text of a type: its number in decimal. */
export function marshalMessageType(type: MessageType): string {
  return String(type);
}

/**
 * Reads the number in a `_t` value without judging it: malformed text (not plain decimal digits)
 * throws, an unknown number is returned as is. Consumers use this to pass through types added by
 * newer Milvus versions.
 */
export function parseMessageTypeNumber(text: string, field = '_t'): number {
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    throw StreamingError.invalidArgument(field, `${JSON.stringify(text)} is not a decimal message type`);
  }
  return Number(text);
}

/**
 * Reads a `_t` value strictly, as a producer's message must carry it: decimal, known, and not
 * Unknown.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming `field` otherwise.
 */
export function parseMessageType(text: string, field = '_t'): MessageType {
  const value = parseMessageTypeNumber(text, field);
  if (!isKnownMessageType(value)) throw StreamingError.invalidArgument(field, `unknown message type ${value}`);
  if (value === MessageType.Unknown) throw StreamingError.invalidArgument(field, 'message type Unknown (0) is not valid');
  return value;
}

/**
 * Reads a MessageType as proto-loader hands it over in `DeliverFilterMessageType` and friends:
 * the enum name or its number.
 */
export function messageTypeFromProto(value: unknown, field = 'message_type'): MessageType {
  if (typeof value === 'number' && isKnownMessageType(value)) return value;
  if (typeof value === 'string') {
    const byName = (MessageType as unknown as Record<string, unknown>)[value];
    if (typeof byName === 'number') return byName as MessageType;
  }
  throw StreamingError.invalidArgument(field, `unknown message type ${JSON.stringify(value)}`);
}

/** The version a builder writes into `_v` for this type (the V1/V2 column of Milvus' table). */
export function messageTypeVersion(type: MessageType): MessageVersion {
  return V1_TYPES.has(type) ? MessageVersion.V1 : MessageVersion.V2;
}

/** TimeTick, BeginTxn, CommitTxn, RollbackTxn, Txn. */
export function isSystemMessageType(type: MessageType): boolean {
  return SYSTEM_TYPES.has(type);
}

/** TimeTick, CreateSegment, Flush: generated by the WAL, never accepted from a producer. */
export function isSelfControlledMessageType(type: MessageType): boolean {
  return SELF_CONTROLLED_TYPES.has(type);
}

/** DDL-like types that must be appended alone on their vchannel. */
export function isExclusiveRequiredMessageType(type: MessageType): boolean {
  return EXCLUSIVE_REQUIRED_TYPES.has(type);
}

/** Insert and Delete: the only types whose payload may be encrypted. */
export function isCipherEnabledMessageType(type: MessageType): boolean {
  return CIPHER_ENABLED_TYPES.has(type);
}

/** BeginTxn, CommitTxn, RollbackTxn: the messages that frame a transaction on the wire. */
export function isTxnControlMessageType(type: MessageType): boolean {
  return type === MessageType.BeginTxn || type === MessageType.CommitTxn || type === MessageType.RollbackTxn;
}
