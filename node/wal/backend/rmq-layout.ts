/**
 * The stored form of a message in Milvus's RocksMQ WAL: the magic prefix `FF FE FD FC` +
 * ASCII `STREAM`, then the protobuf `milvus.proto.messages.RMQMessageLayout{bytes payload = 1;
 * map<string,string> properties = 2}` (milvus-messages.md §5; Milvus `rmq` producer
 * `SendForStreamingService`).
 *
 * Hand-written rather than protobufjs: this message is trivial, the append path encodes every
 * record and the scan path decodes every record, and going through protobufjs would first build
 * a plain object and a map per message. The decoder accepts anything a protobuf encoder may
 * produce for this schema (fields in any order, repeated fields (last wins), unknown fields,
 * map entries missing their key or value), so values written by protobufjs or Go decode too.
 */
import { StreamingError } from '../../../shared/errors/index.js';

/** The 10-byte prefix Milvus writes before a streaming message's RMQMessageLayout. */
export const RMQ_MAGIC: Buffer = Buffer.from([0xff, 0xfe, 0xfd, 0xfc, 0x53, 0x54, 0x52, 0x45, 0x41, 0x4d]);

const MAGIC_LENGTH = RMQ_MAGIC.length;
/** Field 1 (payload) / map key, wire type 2. */
const TAG_1_BYTES = 0x0a;
/** Field 2 (properties) / map value, wire type 2. */
const TAG_2_BYTES = 0x12;
/** Strings up to this many bytes are decoded in JS when ASCII (longer ones: concatenation loses). */
const SHORT_DECODE = 8;
/**
 * A map entry whose key and value have fewer UTF-16 units than this together is written in one
 * pass as ASCII (one-byte lengths), and rewritten through the general path if it was not ASCII.
 */
const SHORT_ENTRY = 124;
/** Most bytes the framing of one map entry takes (tags and three varints of at most 5 bytes). */
const ENTRY_FRAMING_BOUND = 18;

/** A decoded record: the payload is a view into the stored value (no copy). */
export interface RmqLayout {
  readonly payload: Buffer;
  readonly properties: Record<string, string>;
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    length++;
  }
  return length;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function notAString(key: string, value: unknown): StreamingError {
  return StreamingError.invalidArgument(`property ${JSON.stringify(key)}`, `value must be a string, got ${typeof value}`);
}

function payloadFieldBytes(payload: Uint8Array): number {
  return payload.length > 0 ? 1 + varintLength(payload.length) + payload.length : 0;
}

/**
 * At least as many bytes as the stored RocksMQ form of `payload` and `properties` takes, cheaply
 * (no look at the characters: a UTF-16 unit is at most 3 UTF-8 bytes): the room to give
 * {@link encodeRmqLayoutInto}. `for…in` rather than `Object.keys`: no array per record; property
 * objects are plain data objects, and a polluted `Object.prototype` would break far more than this.
 *
 * @throws StreamingError INVAILD_ARGUMENT if a property value is not a string.
 */
export function rmqLayoutBound(payload: Uint8Array, properties: Readonly<Record<string, string>>): number {
  let size = MAGIC_LENGTH + payloadFieldBytes(payload);
  for (const key in properties) {
    const value: unknown = properties[key];
    if (typeof value !== 'string') throw notAString(key, value);
    size += ENTRY_FRAMING_BOUND + 3 * (key.length + value.length);
  }
  return size;
}

/**
 * Bytes the stored RocksMQ form of `payload` and `properties` takes exactly (magic prefix included).
 *
 * @throws StreamingError INVAILD_ARGUMENT if a property value is not a string.
 */
export function measureRmqLayout(payload: Uint8Array, properties: Readonly<Record<string, string>>): number {
  let size = MAGIC_LENGTH + payloadFieldBytes(payload);
  for (const key in properties) {
    const value: unknown = properties[key];
    if (typeof value !== 'string') throw notAString(key, value);
    const kl = Buffer.byteLength(key, 'utf8');
    const vl = Buffer.byteLength(value, 'utf8');
    const entry = 2 + varintLength(kl) + kl + varintLength(vl) + vl;
    size += 1 + varintLength(entry) + entry;
  }
  return size;
}

/**
 * Encodes a payload and its properties into the stored RocksMQ form (magic prefix included).
 * Like Go, an empty payload is omitted; map entries always carry key and value.
 *
 * @throws StreamingError INVAILD_ARGUMENT if a property value is not a string.
 */
export function encodeRmqLayout(payload: Uint8Array, properties: Readonly<Record<string, string>>): Buffer {
  const out = Buffer.allocUnsafe(measureRmqLayout(payload, properties));
  encodeRmqLayoutInto(out, 0, payload, properties);
  return out;
}

/**
 * Writes the stored RocksMQ form into `out` at `at`, in one pass; returns the position just past
 * it. The caller leaves {@link rmqLayoutBound} bytes of room: the record may take less, and bytes
 * between its end and that bound may be overwritten.
 *
 * @throws RangeError if the record did not fit in `out` (nothing may be read from it then).
 * @throws StreamingError INVAILD_ARGUMENT if a property value is not a string.
 */
export function encodeRmqLayoutInto(out: Buffer, at: number, payload: Uint8Array, properties: Readonly<Record<string, string>>): number {
  if (at + MAGIC_LENGTH + payloadFieldBytes(payload) > out.length) throw doesNotFit(at, out);
  for (let i = 0; i < MAGIC_LENGTH; i++) out[at + i] = RMQ_MAGIC[i] as number;
  let pos = at + MAGIC_LENGTH;
  if (payload.length > 0) {
    out[pos++] = TAG_1_BYTES;
    pos = writeVarint(out, pos, payload.length);
    out.set(payload, pos);
    pos += payload.length;
  }
  for (const key in properties) {
    const value: unknown = properties[key];
    if (typeof value !== 'string') throw notAString(key, value);
    pos = writeEntry(out, pos, key, value, at);
  }
  return pos;
}

function doesNotFit(at: number, out: Buffer): RangeError {
  return new RangeError(`RMQMessageLayout does not fit at ${at} of ${out.length} bytes`);
}

/**
 * One map entry (field 2) at `pos`; returns the position past it. Checks the room first:
 * typed-array stores past the end are dropped silently and `Buffer#write` truncates.
 */
function writeEntry(out: Buffer, pos: number, key: string, value: string, recordAt: number): number {
  const kl = key.length;
  const vl = value.length;
  if (kl + vl < SHORT_ENTRY) {
    if (pos + kl + vl + 6 > out.length) throw doesNotFit(recordAt, out);
    // Optimistically ASCII: one byte a character, so every length is known and fits one byte.
    const start = pos;
    out[pos] = TAG_2_BYTES;
    out[pos + 1] = kl + vl + 4;
    out[pos + 2] = TAG_1_BYTES;
    out[pos + 3] = kl;
    pos += 4;
    let seen = 0;
    for (let i = 0; i < kl; i++) {
      const c = key.charCodeAt(i);
      seen |= c;
      out[pos++] = c;
    }
    out[pos++] = TAG_2_BYTES;
    out[pos++] = vl;
    for (let i = 0; i < vl; i++) {
      const c = value.charCodeAt(i);
      seen |= c;
      out[pos++] = c;
    }
    if (seen < 0x80) return pos;
    pos = start;
  }
  const kb = Buffer.byteLength(key, 'utf8');
  const vb = Buffer.byteLength(value, 'utf8');
  const entry = 2 + varintLength(kb) + kb + varintLength(vb) + vb;
  if (pos + 1 + varintLength(entry) + entry > out.length) throw doesNotFit(recordAt, out);
  out[pos++] = TAG_2_BYTES;
  pos = writeVarint(out, pos, entry);
  out[pos++] = TAG_1_BYTES;
  pos = writeVarint(out, pos, kb);
  pos += out.write(key, pos, kb, 'utf8');
  out[pos++] = TAG_2_BYTES;
  pos = writeVarint(out, pos, vb);
  pos += out.write(value, pos, vb, 'utf8');
  return pos;
}

/** True if `value` starts with the streaming-service magic prefix. */
export function hasRmqMagic(value: Uint8Array): boolean {
  if (value.length < MAGIC_LENGTH) return false;
  for (let i = 0; i < MAGIC_LENGTH; i++) if (value[i] !== RMQ_MAGIC[i]) return false;
  return true;
}

/**
 * Decodes a stored RocksMQ streaming record. The payload is a view into `value`.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming `RMQMessageLayout` when the magic prefix is
 *   missing or the protobuf is malformed.
 */
export function decodeRmqLayout(value: Buffer): RmqLayout {
  if (!hasRmqMagic(value)) {
    throw StreamingError.invalidArgument('RMQMessageLayout', 'not a streaming service message (magic prefix missing)');
  }
  const end = value.length;
  let payload: Buffer | undefined;
  const properties: Record<string, string> = {};
  pos = MAGIC_LENGTH;
  while (pos < end) {
    const tag = readVarint(value, end);
    if (tag === TAG_1_BYTES || tag === TAG_2_BYTES) {
      const length = readVarint(value, end);
      const start = pos;
      const stop = start + length;
      if (stop > end) throw malformed(`length ${length} runs past the end`);
      if (tag === TAG_1_BYTES) payload = value.subarray(start, stop);
      else readMapEntry(value, stop, properties);
      pos = stop;
    } else {
      skipField(value, end, tag);
    }
  }
  return { payload: payload ?? Buffer.alloc(0), properties };
}

// Read cursor of the decoder. Module scope is safe: decoding is synchronous and not re-entrant.
let pos = 0;

function readMapEntry(buf: Buffer, end: number, into: Record<string, string>): void {
  let key = '';
  let value = '';
  while (pos < end) {
    const tag = readVarint(buf, end);
    if (tag === TAG_1_BYTES) key = readString(buf, end, true);
    else if (tag === TAG_2_BYTES) value = readString(buf, end, false);
    else skipField(buf, end, tag);
  }
  // A plain assignment would set the prototype instead of storing a `__proto__` property.
  if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
}

function malformed(problem: string): StreamingError {
  return StreamingError.invalidArgument('RMQMessageLayout', `malformed protobuf: ${problem}`);
}

/** A varint as a number; lengths and tags here never need more than 2^53. */
function readVarint(buf: Buffer, end: number): number {
  // One-byte varints (every tag and most lengths here) skip the loop.
  if (pos < end) {
    const first = buf[pos] as number;
    if (first < 0x80) {
      pos++;
      return first;
    }
  }
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw malformed('truncated varint');
    const byte = buf[pos++] as number;
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) return result;
    scale *= 128;
  }
  throw malformed('varint longer than 10 bytes');
}

/** Interned property keys of up to 4 ASCII bytes (every reserved key), by their packed bytes. */
const shortKeys = new Map<number, string>();
const MAX_SHORT_KEYS = 4096;

function readString(buf: Buffer, end: number, isKey: boolean): string {
  const length = readVarint(buf, end);
  const start = pos;
  const stop = start + length;
  if (stop > end) throw malformed(`length ${length} runs past the end`);
  pos = stop;
  if (length === 0) return '';
  if (length > SHORT_DECODE) return buf.toString('utf8', start, stop);
  if (isKey && length <= 4) {
    let packed = length;
    for (let i = start; i < stop; i++) packed = packed * 256 + (buf[i] as number);
    const known = shortKeys.get(packed);
    if (known !== undefined) return known;
    const key = internalize(buf.toString('utf8', start, stop));
    if (shortKeys.size < MAX_SHORT_KEYS) shortKeys.set(packed, key);
    return key;
  }
  let out = '';
  for (let i = start; i < stop; i++) {
    const c = buf[i] as number;
    if (c >= 0x80) return buf.toString('utf8', start, stop);
    out += String.fromCharCode(c);
  }
  return out;
}

/**
 * The engine's canonical copy of `s`: keys read back from an object are internalized, which makes
 * later property stores with this key (and freezing the object) cheap.
 */
function internalize(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}

/** Skips the value of an unknown field. */
function skipField(buf: Buffer, end: number, tag: number): void {
  if (tag < 8) throw malformed(`invalid field number in tag ${tag}`);
  let width: number;
  switch (tag % 8) {
    case 0:
      readVarint(buf, end);
      return;
    case 1:
      width = 8;
      break;
    case 2:
      width = readVarint(buf, end);
      break;
    case 5:
      width = 4;
      break;
    default:
      throw malformed(`unsupported wire type ${tag % 8}`);
  }
  if (pos + width > end) throw malformed('field runs past the end');
  pos += width;
}
