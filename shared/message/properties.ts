import { StreamingError } from '../errors/index.js';
import { decodeInt64, decodeUint64, encodeInt64, encodeUint64 } from './base36.js';

/**
 * Reserved message property keys (all start with `_`) and the codecs of their values, as Milvus
 * writes them (`pkg/streaming/util/message/properties.go`):
 * integers in base 36, protos as standard padded base64, type and version in decimal, flags as
 * an empty string whose *presence* is the flag.
 */
export const PropertyKey = Object.freeze({
  /** Message type, decimal (`"2"` = Insert). */
  MessageType: '_t',
  /** Message format version, decimal. */
  Version: '_v',
  /** Specialised header of the type, base64 proto. */
  Header: '_h',
  /** The vchannel; absent = every vchannel of the pchannel. */
  VChannel: '_vc',
  /** BroadcastHeader, base64 proto. */
  BroadcastHeader: '_bh',
  /** Time tick assigned by the WAL, base-36 uint64. */
  TimeTick: '_tt',
  /** The message must get a time tick greater than this, base-36 uint64. */
  BarrierTimeTick: '_btt',
  /** WAL term at append, base-36 int64. */
  WalTerm: '_wt',
  /** Last confirmed MessageId, in the WAL's id text form. */
  LastConfirmed: '_lc',
  /** Flag: the last confirmed id is the message's own id. Exclusive with `_lc`. */
  LastConfirmedUseMessageId: '_lcs',
  /** TxnContext, base64 proto. */
  TxnContext: '_tx',
  /** CipherHeader (payload is encrypted), base64 proto. */
  CipherHeader: '_ch',
  /** Flag: not persisted (only TimeTick messages). */
  NotPersisted: '_np',
  /** ReplicateHeader (message replicated from another cluster), base64 proto. */
  ReplicateHeader: '_rh',
  /** Flag: pchannel-level message of a cluster-level broadcast. */
  PChannelLevel: '_pcl',
  /** Flag: must not be replicated. */
  Unreplicable: '_ur',
  /** Trace context subset, base64 proto. */
  TraceContext: '_tc',
  /** Flag: partial-update CAS transaction marker. */
  PartialUpdateCas: '_puc',
  /** Idempotency key of an idempotent write, `<domain>:<scopeId>:<clientKey>`. */
  IdempotencyKey: '_ik',
  /** Historical broadcast vchannel list (replaced by `_bh`). */
  VChannels: '_vcs',
});

/** One of the reserved keys. */
export type PropertyKey = (typeof PropertyKey)[keyof typeof PropertyKey];

/** Message properties: a plain string map (proto `map<string, string>`). */
export type Properties = Readonly<Record<string, string>>;

/** The value of a flag property. */
export const FLAG_VALUE = '';

/** Every reserved key this service knows. */
export const RESERVED_PROPERTY_KEYS: ReadonlySet<string> = new Set(Object.values(PropertyKey));

/**
 * Reserved keys a producer may send, because Milvus client-side builders and append options set
 * them: type/version/header/vchannel/broadcast header from the builder, `_tx` on transaction body
 * and commit/rollback messages, `_ch` for encrypted payloads, `_btt` from the append option
 * `BarrierTimeTick`, `_rh` from cross-cluster replication, `_pcl` from cluster-level broadcasts,
 * `_ur`, `_tc`, `_puc`, `_ik` from the builder.
 */
export const PRODUCER_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  PropertyKey.MessageType,
  PropertyKey.Version,
  PropertyKey.Header,
  PropertyKey.VChannel,
  PropertyKey.BroadcastHeader,
  PropertyKey.TxnContext,
  PropertyKey.CipherHeader,
  PropertyKey.BarrierTimeTick,
  PropertyKey.ReplicateHeader,
  PropertyKey.PChannelLevel,
  PropertyKey.Unreplicable,
  PropertyKey.TraceContext,
  PropertyKey.PartialUpdateCas,
  PropertyKey.IdempotencyKey,
]);

/**
 * Reserved keys only the streaming node sets while appending. A producer sending one is rejected:
 * a Go node would overwrite `_tt`/`_lc` silently but crash on a second `_wt`, and `_np` would
 * make a message vanish from the WAL.
 */
export const NODE_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  PropertyKey.TimeTick,
  PropertyKey.LastConfirmed,
  PropertyKey.LastConfirmedUseMessageId,
  PropertyKey.WalTerm,
  PropertyKey.NotPersisted,
]);

/** True for a key in the reserved namespace (starts with `_`). */
export function isReservedPropertyKey(key: string): boolean {
  return key.startsWith('_');
}

/**
 * True if `key` is present. Always use this rather than truthiness (flags are `''`) or the `in`
 * operator (which also sees `Object.prototype` members such as `constructor`).
 */
export function hasProperty(properties: Properties, key: string): boolean {
  return Object.hasOwn(properties, key);
}

/** The value of `key`, or undefined when absent. */
export function getProperty(properties: Properties, key: string): string | undefined {
  return Object.hasOwn(properties, key) ? properties[key] : undefined;
}

/** The non-reserved (user) properties, copied. */
export function userProperties(properties: Properties): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(properties)) {
    if (!isReservedPropertyKey(key)) out[key] = properties[key] as string;
  }
  return out;
}

// ---- value codecs ----

/** Encodes a uint64 property value (`_tt`, `_btt`) in base 36. */
export function encodeUint64Property(key: string, value: bigint): string {
  return encodeUint64(value, key);
}

/** Decodes a base-36 uint64 property value; errors name the key. */
export function decodeUint64Property(key: string, text: string): bigint {
  return decodeUint64(text, key);
}

/** Encodes an int64 property value (`_wt`) in base 36 (signed). */
export function encodeInt64Property(key: string, value: bigint): string {
  return encodeInt64(value, key);
}

/** Decodes a base-36 int64 property value; errors name the key. */
export function decodeInt64Property(key: string, text: string): bigint {
  return decodeInt64(text, key);
}

const DECIMAL = /^[0-9]{1,10}$/;

/** Decodes a small non-negative decimal property value (`_t`, `_v`); errors name the key. */
export function decodeDecimalProperty(key: string, text: string): number {
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    throw StreamingError.invalidArgument(key, `${JSON.stringify(text)} is not a decimal number`);
  }
  return Number(text);
}

/** Standard base64 with padding, as Go's `base64.StdEncoding` writes it. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Encodes proto bytes for a property (`_h`, `_bh`, `_tx`, …): standard base64, padded. */
export function encodeBase64Property(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** True if `text` is standard padded base64 (the empty string is: it encodes an empty proto). */
export function isStrictBase64(text: string): boolean {
  return typeof text === 'string' && text.length % 4 === 0 && STRICT_BASE64.test(text);
}

/**
 * Decodes a base64 property value strictly (Node's own decoder silently skips bad characters,
 * which would hide corrupt headers); errors name the key.
 */
export function decodeBase64Property(key: string, text: string): Buffer {
  if (!isStrictBase64(text)) {
    throw StreamingError.invalidArgument(key, 'is not standard padded base64');
  }
  return Buffer.from(text, 'base64');
}

/** Checks that a flag property holds the empty string Milvus writes; errors name the key. */
export function checkFlagProperty(key: string, text: string): void {
  if (text !== FLAG_VALUE) {
    throw StreamingError.invalidArgument(key, `is a flag and must be the empty string, got ${JSON.stringify(text.slice(0, 40))}`);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** `String.prototype.isWellFormed` (ES2024, Node ≥ 20) is native and much faster than the regex. */
const isWellFormed: ((text: string) => boolean) | undefined =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (text) => (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : undefined;

/** True if `text` has a lone UTF-16 surrogate, which is not valid UTF-8 on the wire (Go rejects it). */
export function hasLoneSurrogate(text: string): boolean {
  return isWellFormed === undefined ? LONE_SURROGATE.test(text) : !isWellFormed(text);
}

/**
 * The UTF-8 byte length of a string, computed without calling into native code (cheaper than
 * `Buffer.byteLength` for the short strings properties hold). A surrogate pair counts 4 bytes.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}
