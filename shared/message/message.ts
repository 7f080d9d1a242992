import type { BroadcastHeader } from './broadcast-header.js';
import { MessageId } from './message-id.js';
import { MessageType, parseMessageTypeNumber } from './message-type.js';
import {
  decodeBase64Property,
  decodeDecimalProperty,
  decodeInt64Property,
  decodeUint64Property,
  getProperty,
  hasProperty,
  type Properties,
  PropertyKey,
  userProperties,
  utf8Length,
} from './properties.js';
import { decodeBroadcastHeaderValue, decodeTxnContextValue } from './proto-values.js';
import type { TxnContext } from './txn.js';

/** The proto shape of a `milvus.proto.messages.Message` (the produce/broadcast envelope). */
export interface MessageProto {
  payload: Buffer;
  properties: Record<string, string>;
}

/** Not yet read / read and absent, for the lazily decoded fields. */
const UNREAD = Symbol('unread');

/**
 * What mutable and immutable messages share: an opaque payload and a string property map with
 * typed accessors for the reserved keys (`reference: milvus-messages.md §4`).
 *
 * Messages are immutable. Every `with…` method returns a new message that shares the payload
 * (never copied, never modified) and a shallow copy of the properties. Accessors decode lazily and
 * cache. A malformed reserved value makes its accessor throw StreamingError INVAILD_ARGUMENT
 * naming the key; validate producer input up front with `validateProducerProperties`.
 */
export abstract class Message {
  /** The body bytes; shared between derived messages, never modify. */
  readonly payload: Buffer;
  /** The properties, frozen. Check presence with {@link hasProperty}, not truthiness. */
  readonly properties: Properties;

  #type: MessageType | undefined;
  #timeTick: bigint | undefined | typeof UNREAD = UNREAD;
  #txn: TxnContext | undefined | typeof UNREAD = UNREAD;
  #broadcast: BroadcastHeader | undefined | typeof UNREAD = UNREAD;
  #size = -1;

  /** `properties` must be a frozen object this message owns (subclasses guarantee it). */
  protected constructor(payload: Buffer, properties: Properties) {
    this.payload = payload;
    this.properties = properties;
  }

  /**
   * @internal Takes over what `from` already decoded. `from` must have the same payload and
   * properties as this message (a message re-wrapped with its id), so every cached field holds.
   */
  protected copyDecoded(from: Message): void {
    this.#type = from.#type;
    this.#timeTick = from.#timeTick;
    this.#txn = from.#txn;
    this.#broadcast = from.#broadcast;
    this.#size = from.#size;
  }

  /**
   * @internal Takes over what `from` decoded of the fields a WAL stamp leaves alone (`_t`, `_tx`,
   * `_bh`): this message is `from` with only `_tt` (now `timeTick`), `_lc`, `_lcs` or `_wt`
   * changed, which changed the estimated size by `sizeDelta` bytes. A size `from` already knows is
   * adjusted instead of rescanning every property (each appended message is sized twice).
   */
  protected copyDecodedStamped(from: Message, timeTick: bigint, sizeDelta: number): void {
    this.#type = from.#type;
    this.#timeTick = timeTick;
    this.#txn = from.#txn;
    this.#broadcast = from.#broadcast;
    if (from.#size >= 0) this.#size = from.#size + sizeDelta;
  }

  /**
   * The message type (`_t`). Absent reads as Unknown; a number this service does not know is
   * returned as is, so messages from newer Milvus versions pass through.
   */
  get messageType(): MessageType {
    if (this.#type === undefined) {
      const text = getProperty(this.properties, PropertyKey.MessageType);
      this.#type = text === undefined ? MessageType.Unknown : (parseMessageTypeNumber(text) as MessageType);
    }
    return this.#type;
  }

  /** Format version (`_v`); absent or empty = 0 (old), as Milvus reads it. */
  get version(): number {
    const text = getProperty(this.properties, PropertyKey.Version);
    return text === undefined || text === '' ? 0 : decodeDecimalProperty(PropertyKey.Version, text);
  }

  /**
   * The vchannel (`_vc`); undefined means every vchannel of the pchannel. An unsplit broadcast
   * (`_bh` without `_vc`) has no vchannel either: see {@link isBroadcast}.
   */
  get vchannel(): string | undefined {
    return getProperty(this.properties, PropertyKey.VChannel);
  }

  /** The time tick (`_tt`), undefined until the WAL assigned one. */
  get timeTick(): bigint | undefined {
    if (this.#timeTick === UNREAD) {
      const text = getProperty(this.properties, PropertyKey.TimeTick);
      this.#timeTick = text === undefined ? undefined : decodeUint64Property(PropertyKey.TimeTick, text);
    }
    return this.#timeTick;
  }

  /**
   * The last confirmed id as stamped: a MessageId (`_lc`), `'self'` when it is the message's own
   * id (`_lcs`, resolved by `ImmutableMessage.lastConfirmedMessageId`), undefined if unset.
   */
  get lastConfirmed(): MessageId | 'self' | undefined {
    if (hasProperty(this.properties, PropertyKey.LastConfirmedUseMessageId)) return 'self';
    const text = getProperty(this.properties, PropertyKey.LastConfirmed);
    return text === undefined ? undefined : MessageId.unmarshal(text, PropertyKey.LastConfirmed);
  }

  /** The barrier time tick (`_btt`): the message must get a greater tick. Undefined if none. */
  get barrierTimeTick(): bigint | undefined {
    const text = getProperty(this.properties, PropertyKey.BarrierTimeTick);
    return text === undefined ? undefined : decodeUint64Property(PropertyKey.BarrierTimeTick, text);
  }

  /** The WAL term at append (`_wt`), undefined if not set. */
  get walTerm(): bigint | undefined {
    const text = getProperty(this.properties, PropertyKey.WalTerm);
    return text === undefined ? undefined : decodeInt64Property(PropertyKey.WalTerm, text);
  }

  /** The transaction (`_tx`), undefined outside a transaction. */
  get txnContext(): TxnContext | undefined {
    if (this.#txn === UNREAD) {
      const text = getProperty(this.properties, PropertyKey.TxnContext);
      this.#txn = text === undefined ? undefined : decodeTxnContextValue(text);
    }
    return this.#txn;
  }

  /** The broadcast header (`_bh`), undefined for a message that is not part of a broadcast. */
  get broadcastHeader(): BroadcastHeader | undefined {
    if (this.#broadcast === UNREAD) {
      const text = getProperty(this.properties, PropertyKey.BroadcastHeader);
      this.#broadcast = text === undefined ? undefined : decodeBroadcastHeaderValue(text);
    }
    return this.#broadcast;
  }

  /** True if the message is part of a broadcast (`_bh` present). */
  get isBroadcast(): boolean {
    return hasProperty(this.properties, PropertyKey.BroadcastHeader);
  }

  /** True if not persisted (`_np` present): a time tick that only exists in memory. */
  get notPersisted(): boolean {
    return hasProperty(this.properties, PropertyKey.NotPersisted);
  }

  /** The opposite of {@link notPersisted}. */
  get isPersisted(): boolean {
    return !this.notPersisted;
  }

  /** True for a pchannel-level message of a cluster-level broadcast (`_pcl`). */
  get isPChannelLevel(): boolean {
    return hasProperty(this.properties, PropertyKey.PChannelLevel);
  }

  /** True if the message must not be replicated to other clusters (`_ur`). */
  get isUnreplicable(): boolean {
    return hasProperty(this.properties, PropertyKey.Unreplicable);
  }

  /** True if the message was replicated from another cluster (`_rh`). */
  get isReplicated(): boolean {
    return hasProperty(this.properties, PropertyKey.ReplicateHeader);
  }

  /** True if the payload is encrypted (`_ch`). */
  get isCiphered(): boolean {
    return hasProperty(this.properties, PropertyKey.CipherHeader);
  }

  /** True if the message was written by the streaming service (`_v` present and non-empty). */
  get isFromStreaming(): boolean {
    const version = getProperty(this.properties, PropertyKey.Version);
    return version !== undefined && version !== '';
  }

  /** The raw `_h` value (base64 of the type's header proto), undefined if absent. */
  get headerBase64(): string | undefined {
    return getProperty(this.properties, PropertyKey.Header);
  }

  /** The header proto bytes (decoded `_h`), undefined if absent. */
  headerBytes(): Buffer | undefined {
    const text = this.headerBase64;
    return text === undefined ? undefined : decodeBase64Property(PropertyKey.Header, text);
  }

  /** The value of any property, undefined if absent. */
  property(key: string): string | undefined {
    return getProperty(this.properties, key);
  }

  /** True if a property is present (flags are empty strings: never test truthiness). */
  hasProperty(key: string): boolean {
    return hasProperty(this.properties, key);
  }

  /** The user (non-reserved) properties, copied. */
  userProperties(): Record<string, string> {
    return userProperties(this.properties);
  }

  /**
   * Estimated size in bytes: payload plus the UTF-8 length of every property key and value
   * (Milvus `EstimateSize`). Used for batching and memory accounting.
   */
  estimateSize(): number {
    if (this.#size < 0) {
      let size = this.payload.length;
      // `for…in`: no key array per message (sized once per append). Properties are plain own
      // data; the own-key test keeps the `Object.keys` set against a polluted prototype.
      for (const key in this.properties) {
        if (Object.hasOwn(this.properties, key)) size += utf8Length(key) + utf8Length(this.properties[key] as string);
      }
      this.#size = size;
    }
    return this.#size;
  }

  /** The `milvus.proto.messages.Message` envelope (shares payload; properties copied). */
  toMessageProto(): MessageProto {
    return { payload: this.payload, properties: { ...this.properties } };
  }
}

/** Copies a property map into a frozen object a message can own. */
export function ownProperties(properties: Readonly<Record<string, string>> | null | undefined): Properties {
  return Object.freeze({ ...(properties ?? {}) });
}

/**
 * A new frozen property map: `base` with `set` applied and `remove` deleted. One shallow copy,
 * the cost of every `with…` method.
 */
export function patchProperties(
  base: Properties,
  set: Readonly<Record<string, string>>,
  remove: readonly string[] = [],
): Properties {
  const next: Record<string, string> = { ...base, ...set };
  for (const key of remove) delete next[key];
  return Object.freeze(next);
}

/** Normalises a payload from the wire (Buffer, Uint8Array or absent) without copying. */
export function toPayload(payload: Uint8Array | null | undefined): Buffer {
  if (payload === null || payload === undefined) return Buffer.alloc(0);
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}
