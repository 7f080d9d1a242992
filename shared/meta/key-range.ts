/**
 * Byte-level key ranges, shared by both stores. Keys are strings on the API but ordered and
 * compared as their UTF-8 bytes, exactly as etcd does.
 */

/** The `range_end` that makes an etcd range cover every key starting with `prefix`: the prefix
 *  with its last byte below 0xff incremented and the rest dropped; `[0]` (no upper bound) when
 *  there is no such byte (an empty or all-0xff prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i]!;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** True when `end` is the "no upper bound" marker returned by {@link prefixEnd}. */
export function isUnbounded(end: Buffer): boolean {
  return end.length === 1 && end[0] === 0;
}

/** The first key of a page: the prefix, or just after `startAfter` when that lies beyond it. */
export function rangeStart(prefix: Buffer, startAfter: string | undefined): Buffer {
  if (startAfter === undefined) return prefix;
  const after = Buffer.concat([Buffer.from(startAfter, 'utf8'), Buffer.from([0])]);
  return Buffer.compare(after, prefix) > 0 ? after : prefix;
}

/** True when `key` starts with `prefix` (bytewise). */
export function hasPrefix(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.subarray(0, prefix.length).equals(prefix);
}
