/**
 * The persisted TSO window: an exclusive upper bound on the physical part (wall-clock ms) of
 * every timestamp the current owner may hand out, saved in the meta store *before* any timestamp
 * under it is handed out (Milvus `timestampOracle.saveTimestamp`, PD's "save ahead" window).
 *
 * Value layout at the TSO key (ours, not a Milvus record):
 * ```
 * bytes 0..7   window end, unix milliseconds, uint64 big-endian (Milvus also stores its TSO
 *              bound as a big-endian uint64)
 * bytes 8..    owner id, UTF-8: unique per allocator instance
 * ```
 * Every write is a compare-and-swap on the exact previous bytes, so once another allocator has
 * replaced the value, the old owner's next write fails and it learns it lost the window. The
 * owner id resolves the one ambiguity of CAS over a network: a write that applied although its
 * response was lost shows up as a value carrying our own id, which nobody else writes.
 */
import { MAX_PHYSICAL_MS, StreamingError, type Compare, type MetaKV } from '../../shared/index.js';

/** One persisted window, with the exact bytes it was read from or written as. */
export interface TsoWindow {
  /** Exclusive upper bound of the physical ms handed out under this window. */
  readonly endMs: bigint;
  /** Allocator instance that wrote it. */
  readonly owner: string;
  /** The stored value (what the next CAS compares against). */
  readonly bytes: Buffer;
}

/** What an attempt to move the window forward found. */
export type TsoWindowExtendResult =
  | { readonly kind: 'extended'; readonly window: TsoWindow }
  | { readonly kind: 'lost'; readonly current: TsoWindow | undefined };

/** Encodes a window value (see the file comment for the layout). */
export function encodeTsoWindow(endMs: bigint, owner: string): TsoWindow {
  if (endMs < 0n || endMs > MAX_PHYSICAL_MS) throw StreamingError.invalidArgument('tso window end', `out of range: ${endMs}`);
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(endMs);
  return { endMs, owner, bytes: Buffer.concat([head, Buffer.from(owner, 'utf8')]) };
}

/** Decodes the value at `key`; anything malformed is UNRECOVERABLE (naming the key). */
export function decodeTsoWindow(key: string, bytes: Buffer): TsoWindow {
  if (bytes.length < 8) {
    throw StreamingError.unrecoverable(`tso: corrupt value at key ${key}: ${bytes.length} bytes, expected at least 8`);
  }
  const endMs = bytes.readBigUInt64BE(0);
  if (endMs > MAX_PHYSICAL_MS) {
    throw StreamingError.unrecoverable(`tso: corrupt value at key ${key}: window end ${endMs} ms is beyond the timestamp range`);
  }
  return { endMs, owner: bytes.subarray(8).toString('utf8'), bytes: Buffer.from(bytes) };
}

/** Reads and CAS-writes the window of one allocator instance (`owner`) at one key. */
export class TsoWindowStore {
  constructor(
    readonly kv: MetaKV,
    readonly key: string,
    readonly owner: string,
  ) {}

  /** The persisted window, undefined when no allocator ever ran on this key. */
  async load(): Promise<TsoWindow | undefined> {
    const kv = await this.kv.get(this.key);
    return kv === undefined ? undefined : decodeTsoWindow(this.key, kv.value);
  }

  /**
   * Takes the window over from whoever wrote `previous` (undefined: nobody yet), moving it to
   * `endMs`. Resolves undefined when the stored value is no longer `previous` (someone else
   * wrote meanwhile: load again and retry).
   */
  async claim(previous: TsoWindow | undefined, endMs: bigint): Promise<TsoWindow | undefined> {
    const next = encodeTsoWindow(endMs, this.owner);
    const result = await this.kv.txn({
      compares: [this.#unchanged(previous)],
      success: [{ type: 'put', key: this.key, value: next.bytes }],
    });
    return result.succeeded ? next : undefined;
  }

  /**
   * Moves our window `current` forward to `endMs`, only if the store still holds `current`.
   * If it holds another value of ours (an earlier write whose response was lost), that value is
   * adopted as the window. Any other value, or none, means another allocator took over: `lost`.
   */
  async extend(current: TsoWindow, endMs: bigint): Promise<TsoWindowExtendResult> {
    const next = encodeTsoWindow(endMs, this.owner);
    const result = await this.kv.txn({
      compares: [this.#unchanged(current)],
      success: [{ type: 'put', key: this.key, value: next.bytes }],
      // Read in the same transaction, so "what is there instead" is exactly what failed the compare.
      failure: [{ type: 'get', key: this.key }],
    });
    if (result.succeeded) return { kind: 'extended', window: next };
    const stored = result.gets[0];
    const found = stored === undefined ? undefined : decodeTsoWindow(this.key, stored.value);
    if (found === undefined || found.owner !== this.owner) return { kind: 'lost', current: found };
    // Our writes only move forward, so an older value of ours cannot reappear; if it ever did,
    // the bound must not shrink below what we believed: write ours over it.
    if (found.endMs < current.endMs) return this.extend(found, endMs);
    return { kind: 'extended', window: found };
  }

  #unchanged(previous: TsoWindow | undefined): Compare {
    return previous === undefined
      ? { key: this.key, target: 'version', op: '==', value: 0 }
      : { key: this.key, target: 'value', op: '==', value: previous.bytes };
  }
}
