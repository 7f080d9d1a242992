import { StreamingError } from '../errors/index.js';
import { Message, ownProperties, patchProperties, toPayload } from './message.js';
import { MessageId, type MessageIdProto, type MessageIdProtoLike } from './message-id.js';
import { messageTypeName, parseMessageTypeNumber } from './message-type.js';
import {
  decodeUint64Property,
  encodeUint64Property,
  getProperty,
  hasProperty,
  type Properties,
  PropertyKey,
} from './properties.js';

/** The proto shape of a `milvus.proto.common.ImmutableMessage`. */
export interface ImmutableMessageProto {
  id: MessageIdProto;
  payload: Buffer;
  properties: Record<string, string>;
}

/** What {@link ImmutableMessage.fromProto} accepts: a decoded ImmutableMessage, fields possibly absent. */
export interface ImmutableMessageProtoLike {
  id?: MessageIdProtoLike | null;
  payload?: Uint8Array | null;
  properties?: Readonly<Record<string, string>> | null;
}

/**
 * A message as stored in and read back from a WAL: a mutable message plus the {@link MessageId}
 * the WAL gave it. On the wire it is `common.ImmutableMessage{id, payload, properties}`.
 */
export class ImmutableMessage extends Message {
  /** Where the WAL stored this message. */
  readonly messageId: MessageId;

  private constructor(id: MessageId, payload: Buffer, properties: Properties) {
    super(payload, properties);
    this.messageId = id;
  }

  /** Builds an immutable message from parts (properties copied, payload shared). */
  static create(id: MessageId, payload: Uint8Array, properties: Readonly<Record<string, string>>): ImmutableMessage {
    return new ImmutableMessage(id, toPayload(payload), ownProperties(properties));
  }

  /** @internal Wraps properties the caller already froze and owns (no copy). */
  static fromOwned(id: MessageId, payload: Buffer, properties: Properties): ImmutableMessage {
    return new ImmutableMessage(id, payload, properties);
  }

  /**
   * @internal `source` as appended with `id`: shares its payload and (frozen) properties and takes
   * over the fields it already decoded.
   */
  static appended(id: MessageId, source: Message): ImmutableMessage {
    const message = new ImmutableMessage(id, source.payload, source.properties);
    message.copyDecoded(source);
    return message;
  }

  /**
   * Reads a decoded `common.ImmutableMessage`.
   *
   * @throws StreamingError INVAILD_ARGUMENT when the id is missing or not a RocksMQ-style id.
   */
  static fromProto(proto: ImmutableMessageProtoLike): ImmutableMessage {
    const id = MessageId.fromProto(proto.id, 'message.id');
    return new ImmutableMessage(id, toPayload(proto.payload), ownProperties(proto.properties));
  }

  /**
   * The time tick (`_tt`). Every message that went through a WAL has one.
   *
   * @throws StreamingError INVAILD_ARGUMENT naming `_tt` when absent or malformed.
   */
  override get timeTick(): bigint {
    const tt = super.timeTick;
    if (tt === undefined) throw StreamingError.invalidArgument(PropertyKey.TimeTick, `missing on message ${this.messageId}`);
    return tt;
  }

  /** True if a time tick is present (`timeTick` would not throw for absence). */
  get hasTimeTick(): boolean {
    return hasProperty(this.properties, PropertyKey.TimeTick);
  }

  /**
   * The last confirmed id: reading from it re-delivers every message with a greater time tick.
   * `_lcs` means "my own id"; otherwise `_lc` decoded with this WAL's id codec.
   *
   * @throws StreamingError INVAILD_ARGUMENT naming `_lc` when neither is present or `_lc` is malformed.
   */
  get lastConfirmedMessageId(): MessageId {
    const lc = this.lastConfirmed;
    if (lc === 'self') return this.messageId;
    if (lc === undefined) throw StreamingError.invalidArgument(PropertyKey.LastConfirmed, `missing on message ${this.messageId}`);
    return lc;
  }

  /**
   * A copy re-stamped as a body message of a committed transaction: the commit's time tick and
   * last confirmed id replace the message's own (`_lcs` is cleared), so consumers see the whole
   * transaction at its commit point.
   */
  withTxnCommitStamp(timeTick: bigint, lastConfirmed: MessageId): ImmutableMessage {
    const properties = patchProperties(
      this.properties,
      {
        [PropertyKey.TimeTick]: encodeUint64Property(PropertyKey.TimeTick, timeTick),
        [PropertyKey.LastConfirmed]: lastConfirmed.marshal(),
      },
      [PropertyKey.LastConfirmedUseMessageId],
    );
    return new ImmutableMessage(this.messageId, this.payload, properties);
  }

  /** The `common.ImmutableMessage` proto shape (payload shared, properties copied). */
  toProto(): ImmutableMessageProto {
    return { id: this.messageId.toProto(), payload: this.payload, properties: { ...this.properties } };
  }

  /** Short description for logs: id, type, vchannel and time tick. */
  override toString(): string {
    // Never throws: a log line must not fail on a malformed property.
    const raw = (key: string, decode: (text: string) => string): string => {
      const text = getProperty(this.properties, key);
      if (text === undefined) return '-';
      try {
        return decode(text);
      } catch {
        return JSON.stringify(text);
      }
    };
    const type = raw(PropertyKey.MessageType, (t) => messageTypeName(parseMessageTypeNumber(t)));
    const tick = raw(PropertyKey.TimeTick, (t) => decodeUint64Property(PropertyKey.TimeTick, t).toString());
    return `ImmutableMessage(id=${this.messageId}, type=${type}, vchannel=${this.vchannel ?? '*'}, tt=${tick})`;
  }
}
