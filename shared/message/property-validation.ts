import { StreamingError } from '../errors/index.js';
import type { BroadcastHeader } from './broadcast-header.js';
import { pchannelOfChannel, validateVChannelName } from './channel-names.js';
import {
  isCipherEnabledMessageType,
  isKnownMessageType,
  isSelfControlledMessageType,
  MessageType,
  MessageVersion,
  messageTypeName,
  parseMessageType,
} from './message-type.js';
import {
  checkFlagProperty,
  decodeDecimalProperty,
  decodeUint64Property,
  hasLoneSurrogate,
  hasProperty,
  isReservedPropertyKey,
  isStrictBase64,
  NODE_PROPERTY_KEYS,
  type Properties,
  PropertyKey,
} from './properties.js';
import { checkProtoValue, decodeBroadcastHeaderValue, decodeTxnContextValue, ProtoTypeName } from './proto-values.js';

/** What validation learnt about a producer's message. */
export interface ProducerMessageInfo {
  readonly messageType: MessageType;
  /** `_vc`, undefined = every vchannel of the pchannel. */
  readonly vchannel: string | undefined;
  readonly broadcastHeader: BroadcastHeader | undefined;
}

/** What the single pass over the keys collects for the cross-key checks. */
interface Seen {
  type: MessageType | undefined;
  vchannel: string | undefined;
  broadcast: BroadcastHeader | undefined;
  cipher: boolean;
}

/**
 * Checks the properties of a message a producer sent (or a client is about to send), before the
 * node stamps it. Rejects, with StreamingError INVAILD_ARGUMENT naming the offending key:
 * - a `_`-prefixed key that producers may not set: node-only keys (`_tt _lc _lcs _wt _np`) and
 *   keys this service does not know (including the historical `_vcs`);
 * - a missing, malformed, unknown or WAL-generated (`TimeTick`, `CreateSegment`, `Flush`, `Txn`)
 *   message type `_t`;
 * - a malformed reserved value: `_v` not a known version, `_h`/`_tc` not base64, `_tx`/`_bh`/
 *   `_ch`/`_rh` not base64 of a valid proto, `_btt` not base-36 uint64, a flag (`_pcl _ur _puc`)
 *   that is not empty, an invalid `_vc` (a pchannel name only with `_pcl`);
 * - a broadcast message that was not split (`_bh` without `_vc`), whose `_vc` is not one of its
 *   broadcast's vchannels, or whose `_bh` has no or duplicate vchannels; `_ch` on a type that
 *   cannot be encrypted;
 * - a key or value with a lone UTF-16 surrogate (not encodable as the UTF-8 Go peers require).
 *
 * One pass over the keys; costs about a microsecond for a typical message.
 */
export function validateProducerProperties(properties: Properties): ProducerMessageInfo {
  const seen = scanProducerProperties(properties);
  return { messageType: seen.type as MessageType, vchannel: seen.vchannel, broadcastHeader: seen.broadcast };
}

/**
 * {@link validateProducerProperties} for the WAL's check of every appended message: the same
 * checks and errors, but it returns only the vchannel (`_vc`, undefined = every vchannel of the
 * pchannel) and allocates nothing for a typical message.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming the offending key.
 */
export function validateProducerVChannel(properties: Properties): string | undefined {
  return scanProducerProperties(properties).vchannel;
}

/**
 * The scan's state, reused by every call: validation runs synchronously start to end and calls
 * nothing that could validate again, so one object serves all (one allocation fewer per append).
 * Read it before the next call.
 */
const scratch: Seen = { type: undefined, vchannel: undefined, broadcast: undefined, cipher: false };

function scanProducerProperties(properties: Properties): Readonly<Seen> {
  const seen = scratch;
  seen.type = undefined;
  seen.vchannel = undefined;
  seen.broadcast = undefined;
  seen.cipher = false;
  // `for…in` rather than `Object.keys`: no key array per message. The own-key test keeps the
  // exact `Object.keys` set even if someone made an `Object.prototype` member enumerable.
  for (const key in properties) {
    if (!Object.hasOwn(properties, key)) continue;
    const value = properties[key];
    if (checkKnownGood(key, value, properties, seen)) continue;
    checkText(key, value);
    if (isReservedPropertyKey(key)) checkReserved(key, value, properties, seen);
  }
  const messageType = seen.type;
  if (messageType === undefined) {
    throw StreamingError.invalidArgument(PropertyKey.MessageType, 'is missing (every message needs a type)');
  }
  if (seen.cipher && !isCipherEnabledMessageType(messageType)) {
    throw StreamingError.invalidArgument(PropertyKey.CipherHeader, `message type ${messageTypeName(messageType)} cannot be encrypted`);
  }
  if (seen.broadcast !== undefined) checkSplitBroadcast(seen.broadcast, seen.vchannel);
  return seen;
}

/**
 * Checks the user properties a client passes to a builder: no reserved (`_`-prefixed) keys, and
 * nothing that is not valid UTF-8 on the wire.
 */
export function validateUserProperties(properties: Readonly<Record<string, string>>): void {
  for (const key of Object.keys(properties)) {
    if (isReservedPropertyKey(key)) {
      throw StreamingError.invalidArgument(key, "user property keys must not start with '_' (reserved for the service)");
    }
    checkText(key, properties[key]);
  }
}

function checkText(key: string, value: unknown): asserts value is string {
  // The key may itself be unprintable: quote it so the error text stays valid UTF-8.
  if (hasLoneSurrogate(key)) throw StreamingError.invalidArgument(JSON.stringify(key), 'property key is not valid UTF-8');
  if (typeof value !== 'string') throw StreamingError.invalidArgument(key, `value must be a string, got ${typeof value}`);
  if (hasLoneSurrogate(value)) throw StreamingError.invalidArgument(key, 'value is not valid UTF-8');
}

// ---- the fast path: values every message repeats, checked once ----

/** `_t` texts of the types a producer may send, in the canonical form (no leading zeros). */
const PRODUCIBLE_TYPE_BY_TEXT: ReadonlyMap<string, MessageType> = new Map(
  Object.values(MessageType)
    .filter((v): v is MessageType => typeof v === 'number' && isKnownMessageType(v))
    .filter((type) => type !== MessageType.Unknown && type !== MessageType.Txn && !isSelfControlledMessageType(type))
    .map((type) => [String(type), type]),
);
/** `_v` texts of the known versions, canonical form. */
const KNOWN_VERSION_TEXTS: ReadonlySet<string> = new Set(
  Object.values(MessageVersion).filter((v) => typeof v === 'number').map((v) => String(v)),
);
/**
 * `_vc` values that passed {@link validateVChannelName} (a pure check): a node sees the same few
 * vchannels over and over, so each is parsed once. Bounded; starts over when full.
 */
const validVChannels = new Set<string>();
const VALID_VCHANNELS_LIMIT = 4096;

/**
 * True when `key`/`value` is one of the common reserved pairs already known to pass every check
 * ({@link checkText} and {@link checkReserved}); its effect on `seen` is applied. False = check
 * it the long way (same checks, same order, same errors as always).
 */
function checkKnownGood(key: string, value: unknown, properties: Properties, seen: Seen): boolean {
  if (typeof value !== 'string') return false;
  switch (key) {
    case PropertyKey.MessageType: {
      const type = PRODUCIBLE_TYPE_BY_TEXT.get(value);
      if (type === undefined) return false;
      seen.type = type;
      return true;
    }
    case PropertyKey.Version:
      return KNOWN_VERSION_TEXTS.has(value);
    case PropertyKey.VChannel:
      if (!validVChannels.has(value) || hasProperty(properties, PropertyKey.PChannelLevel)) return false;
      seen.vchannel = value;
      return true;
    default:
      return false;
  }
}

function rememberValidVChannel(vchannel: string): void {
  if (validVChannels.size >= VALID_VCHANNELS_LIMIT) validVChannels.clear();
  validVChannels.add(vchannel);
}

function checkReserved(key: string, value: string, properties: Properties, seen: Seen): void {
  switch (key) {
    case PropertyKey.MessageType:
      seen.type = checkMessageType(value);
      return;
    case PropertyKey.Version:
      if (typeof MessageVersion[decodeDecimalProperty(key, value)] !== 'string') {
        throw StreamingError.invalidArgument(key, `unknown message version ${value}`);
      }
      return;
    case PropertyKey.Header:
    case PropertyKey.TraceContext:
      // Only the form is checked: the header's proto type depends on `_t` and is the business of
      // whoever acts on it; the service passes headers through untouched.
      if (!isStrictBase64(value)) throw StreamingError.invalidArgument(key, 'is not standard padded base64');
      return;
    case PropertyKey.VChannel:
      // A pchannel-level copy of a cluster-level broadcast addresses a pchannel by name.
      if (hasProperty(properties, PropertyKey.PChannelLevel)) pchannelOfChannel(value, key);
      else rememberValidVChannel(validateVChannelName(value, key));
      seen.vchannel = value;
      return;
    case PropertyKey.BroadcastHeader:
      seen.broadcast = decodeBroadcastHeaderValue(value, key);
      return;
    case PropertyKey.TxnContext:
      decodeTxnContextValue(value, key);
      return;
    case PropertyKey.CipherHeader:
      checkProtoValue(key, ProtoTypeName.CipherHeader, value);
      seen.cipher = true;
      return;
    case PropertyKey.ReplicateHeader:
      checkProtoValue(key, ProtoTypeName.ReplicateHeader, value);
      return;
    case PropertyKey.BarrierTimeTick:
      decodeUint64Property(key, value);
      return;
    case PropertyKey.PChannelLevel:
    case PropertyKey.Unreplicable:
    case PropertyKey.PartialUpdateCas:
      checkFlagProperty(key, value);
      return;
    case PropertyKey.IdempotencyKey:
      return; // free-form `<domain>:<scope>:<clientKey>`, opaque to the WAL
    default:
      if (NODE_PROPERTY_KEYS.has(key)) {
        throw StreamingError.invalidArgument(key, 'is set by the streaming node; a producer may not send it');
      }
      throw StreamingError.invalidArgument(key, "is not a property a producer may set (keys starting with '_' are reserved)");
  }
}

function checkMessageType(text: string): MessageType {
  const type = parseMessageType(text, PropertyKey.MessageType);
  if (isSelfControlledMessageType(type) || type === MessageType.Txn) {
    throw StreamingError.invalidArgument(
      PropertyKey.MessageType,
      `message type ${messageTypeName(type)} is generated by the streaming service and may not be produced`,
    );
  }
  return type;
}

function checkSplitBroadcast(header: BroadcastHeader, vchannel: string | undefined): void {
  if (header.vchannels.length === 0) throw StreamingError.invalidArgument(PropertyKey.BroadcastHeader, 'has no vchannels');
  if (new Set(header.vchannels).size !== header.vchannels.length) {
    throw StreamingError.invalidArgument(PropertyKey.BroadcastHeader, 'lists a vchannel twice');
  }
  if (vchannel === undefined) {
    throw StreamingError.invalidArgument(PropertyKey.VChannel, 'is missing on a broadcast message (split it per vchannel before producing)');
  }
  if (!header.vchannels.includes(vchannel)) {
    throw StreamingError.invalidArgument(PropertyKey.VChannel, `${JSON.stringify(vchannel)} is not one of the broadcast's vchannels`);
  }
}
