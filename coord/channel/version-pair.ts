/**
 * The assignment version (Milvus `typeutil.VersionInt64Pair`, reference `milvus-coord.md` §2.4).
 * `global` is the active coordinator's server id, `local` counts changes since it started; a newer
 * coordinator gets a larger server id from the etcd counter, so its versions supersede the old one's
 * even though its `local` restarts at 0.
 */

/** A `(global, local)` assignment version. */
export interface VersionPair {
  readonly global: bigint;
  readonly local: bigint;
}

/** Builds a frozen {@link VersionPair}. */
export function versionPair(global: bigint, local: bigint): VersionPair {
  return Object.freeze({ global, local });
}

/** Orders versions: `global` first, then `local`. Negative, zero or positive like `Array#sort`. */
export function compareVersionPairs(a: VersionPair, b: VersionPair): number {
  if (a.global !== b.global) return a.global < b.global ? -1 : 1;
  if (a.local !== b.local) return a.local < b.local ? -1 : 1;
  return 0;
}

/** True when `a` is strictly newer than `b` (Milvus `GT`): what a client accepts. */
export function isNewerVersion(a: VersionPair, b: VersionPair): boolean {
  return compareVersionPairs(a, b) > 0;
}

/** Log form `global/local`. */
export function formatVersionPair(v: VersionPair): string {
  return `${v.global}/${v.local}`;
}
