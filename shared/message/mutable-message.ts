import { StreamingError } from '../errors/index.js';
import { ImmutableMessage } from './immutable-message.js';
import { Message, type MessageProto, ownProperties, patchProperties, toPayload } from './message.js';
import type { MessageId } from './message-id.js';
import {
  encodeInt64Property,
  encodeUint64Property,
  FLAG_VALUE,
  hasProperty,
  type Properties,
  PropertyKey,
  utf8Length,
} from './properties.js';
import { encodeTxnContextValue } from './proto-values.js';
import type { TxnContext } from './txn.js';

// The WAL stamps every message with the same term: its `_wt` text is encoded once per term.
let stampedTerm: bigint | undefined;
let stampedTermText = '';

function walTermText(term: bigint): string {
  if (term !== stampedTerm) {
    stampedTermText = encodeInt64Property(PropertyKey.WalTerm, term);
    stampedTerm = term;
  }
  return stampedTermText;
}

/** What a property adds to the estimated size (see `Message.estimateSize`); 0 when absent. */
function sizeOf(key: string, value: string | undefined): number {
  return value === undefined ? 0 : utf8Length(key) + utf8Length(value);
}

/** {@link sizeOf} of a reserved key and a value this module encoded (base 36: ASCII, 1 byte a char). */
function asciiSizeOf(key: string, value: string): number {
  return key.length + value.length;
}

/** What {@link MutableMessage.fromProto} accepts: a decoded `messages.Message`, fields possibly absent. */
export interface MessageProtoLike {
  payload?: Uint8Array | null;
  properties?: Readonly<Record<string, string>> | null;
}

/**
 * A message before it is appended: built by a producer (see the builders) or received in a
 * produce request, then stamped by the node's interceptors (`withTimeTick`, `withLastConfirmed`,
 * `withWalTerm`, `withTxnContext`) and turned into an {@link ImmutableMessage} with the id the
 * WAL gave it.
 *
 * @example
 * ```ts
 * const stamped = msg.withTimeTick(tt).withLastConfirmed(lc).withWalTerm(term);
 * const stored = stamped.intoImmutable(MessageId.of(offset));
 * ```
 */
export class MutableMessage extends Message {
  private constructor(payload: Buffer, properties: Properties) {
    super(payload, properties);
  }

  /** Wraps a payload and properties; the properties are copied, the payload is not. */
  static create(payload: Uint8Array, properties: Readonly<Record<string, string>> = {}): MutableMessage {
    return new MutableMessage(toPayload(payload), ownProperties(properties));
  }

  /**
   * Wraps a decoded `messages.Message` (absent payload = empty). Does not validate: call
   * `validateProducerProperties` on producer input.
   */
  static fromProto(proto: MessageProtoLike): MutableMessage {
    return new MutableMessage(toPayload(proto.payload), ownProperties(proto.properties));
  }

  /** @internal Wraps properties the caller already froze and owns (no copy). */
  static fromOwned(payload: Buffer, properties: Properties): MutableMessage {
    return new MutableMessage(payload, properties);
  }

  /** Sets (or replaces) the time tick `_tt`. */
  withTimeTick(timeTick: bigint): MutableMessage {
    const next: Record<string, string> = { ...this.properties };
    const tt = encodeUint64Property(PropertyKey.TimeTick, timeTick);
    const delta = asciiSizeOf(PropertyKey.TimeTick, tt) - sizeOf(PropertyKey.TimeTick, next[PropertyKey.TimeTick]);
    next[PropertyKey.TimeTick] = tt;
    const stamped = new MutableMessage(this.payload, Object.freeze(next));
    stamped.copyDecodedStamped(this, timeTick, delta);
    return stamped;
  }

  /** Sets the last confirmed id `_lc` and clears `_lcs`. */
  withLastConfirmed(id: MessageId): MutableMessage {
    return MutableMessage.#patch(this, { [PropertyKey.LastConfirmed]: id.marshal() }, [PropertyKey.LastConfirmedUseMessageId]);
  }

  /**
   * What the WAL stamps on every appended message, in one property copy instead of one per
   * field: `_tt` (`timeTick`) and `_lc` (`lastConfirmed`, clearing `_lcs`) as
   * {@link withTimeTick} and {@link withLastConfirmed} set them, plus `_wt` when `walTerm` is
   * given. Unlike {@link withWalTerm} it does not refuse an existing `_wt` (it replaces it): the
   * node calls it on validated input, which has none. Positional arguments: no stamp object per
   * appended message.
   */
  withAppendStamp(timeTick: bigint, lastConfirmed: MessageId, walTerm?: bigint): MutableMessage {
    // Written straight into the copy (what `patchProperties` does, minus the `set` object), with
    // the size change counted on the way: this runs once per appended message. Plain reads:
    // the values replaced only feed the size estimate (validated producer input has none).
    const next: Record<string, string> = { ...this.properties };
    const tt = encodeUint64Property(PropertyKey.TimeTick, timeTick);
    const lc = lastConfirmed.marshal();
    const wt = walTerm === undefined ? undefined : walTermText(walTerm);
    let delta = -sizeOf(PropertyKey.TimeTick, next[PropertyKey.TimeTick]) - sizeOf(PropertyKey.LastConfirmed, next[PropertyKey.LastConfirmed]);
    next[PropertyKey.TimeTick] = tt;
    next[PropertyKey.LastConfirmed] = lc;
    delta += asciiSizeOf(PropertyKey.TimeTick, tt) + asciiSizeOf(PropertyKey.LastConfirmed, lc);
    if (wt !== undefined) {
      delta += asciiSizeOf(PropertyKey.WalTerm, wt) - sizeOf(PropertyKey.WalTerm, next[PropertyKey.WalTerm]);
      next[PropertyKey.WalTerm] = wt;
    }
    const lcs = next[PropertyKey.LastConfirmedUseMessageId];
    if (lcs !== undefined) {
      delta -= sizeOf(PropertyKey.LastConfirmedUseMessageId, lcs);
      delete next[PropertyKey.LastConfirmedUseMessageId];
    }
    const stamped = new MutableMessage(this.payload, Object.freeze(next));
    stamped.copyDecodedStamped(this, timeTick, delta);
    return stamped;
  }

  /** Marks the last confirmed id as the message's own id (`_lcs`) and clears `_lc`. */
  withLastConfirmedUseMessageId(): MutableMessage {
    return MutableMessage.#patch(this, { [PropertyKey.LastConfirmedUseMessageId]: FLAG_VALUE }, [PropertyKey.LastConfirmed]);
  }

  /**
   * Sets the WAL term `_wt`. Only once: a message keeps the term of the WAL that first appended it.
   *
   * @throws StreamingError INVAILD_ARGUMENT naming `_wt` if already set.
   */
  withWalTerm(term: bigint): MutableMessage {
    MutableMessage.#setOnce(this, PropertyKey.WalTerm);
    return MutableMessage.#patch(this, { [PropertyKey.WalTerm]: encodeInt64Property(PropertyKey.WalTerm, term) });
  }

  /**
   * Sets the barrier time tick `_btt`: the WAL must give this message a greater time tick.
   *
   * @throws StreamingError INVAILD_ARGUMENT naming `_btt` if already set.
   */
  withBarrierTimeTick(timeTick: bigint): MutableMessage {
    MutableMessage.#setOnce(this, PropertyKey.BarrierTimeTick);
    return MutableMessage.#patch(this, { [PropertyKey.BarrierTimeTick]: encodeUint64Property(PropertyKey.BarrierTimeTick, timeTick) });
  }

  /** Sets (or replaces) the transaction context `_tx`. */
  withTxnContext(ctx: TxnContext): MutableMessage {
    return MutableMessage.#patch(this, { [PropertyKey.TxnContext]: encodeTxnContextValue(ctx) });
  }

  /** Marks the message as not persisted (`_np`); only time ticks may carry it. */
  withNotPersisted(): MutableMessage {
    return MutableMessage.#patch(this, { [PropertyKey.NotPersisted]: FLAG_VALUE });
  }

  /** Sets (or replaces) the vchannel `_vc`. */
  withVChannel(vchannel: string): MutableMessage {
    if (typeof vchannel !== 'string' || vchannel.length === 0) {
      throw StreamingError.invalidArgument(PropertyKey.VChannel, 'must be a non-empty string');
    }
    return MutableMessage.#patch(this, { [PropertyKey.VChannel]: vchannel });
  }

  /**
   * Sets reserved or user properties in one copy. For node-side code that needs a key without a
   * dedicated method (e.g. `_pcl`); prefer the typed `with…` methods.
   */
  withProperties(set: Readonly<Record<string, string>>, remove: readonly string[] = []): MutableMessage {
    return MutableMessage.#patch(this, set, remove);
  }

  /**
   * The message as appended: this message's payload and properties paired with the id the WAL
   * gave it (the id is not written into the properties).
   */
  intoImmutable(id: MessageId): ImmutableMessage {
    // Properties are frozen, so the immutable message can share them (and what was decoded of them).
    return ImmutableMessage.appended(id, this);
  }

  /** The `messages.Message` envelope for a produce request. */
  toProto(): MessageProto {
    return this.toMessageProto();
  }

  // Static, not instance, private methods: those would cost every message a brand field.
  static #setOnce(message: MutableMessage, key: string): void {
    if (hasProperty(message.properties, key)) throw StreamingError.invalidArgument(key, 'is already set on this message');
  }

  static #patch(message: MutableMessage, set: Readonly<Record<string, string>>, remove: readonly string[] = []): MutableMessage {
    return new MutableMessage(message.payload, patchProperties(message.properties, set, remove));
  }
}
