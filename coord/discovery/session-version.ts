/**
 * The version gate of node discovery: Milvus's session discoverer ignores streaming nodes older
 * than a minimum semver (`>=2.6.0-dev`), because older nodes do not speak the 2.6 protocol. Only
 * what that check needs is here: `major.minor.patch[-prerelease][+build]`, ordered as semver 2.0.
 */

interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Dot-separated identifiers; empty for a release. */
  readonly prerelease: readonly string[];
}

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses a semver string (a leading `v` is accepted); undefined when it is not one. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text.trim());
  if (m === null) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] === undefined ? [] : m[4].split('.'),
  };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  // Numeric identifiers sort before alphanumeric ones.
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semver precedence: negative when `a < b`, 0 when equal, positive when `a > b`. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  // A release is newer than any of its prereleases (2.6.0-dev < 2.6.0).
  if (a.prerelease.length === 0 && b.prerelease.length === 0) return 0;
  if (a.prerelease.length === 0) return 1;
  if (b.prerelease.length === 0) return -1;
  const n = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifiers(a.prerelease[i]!, b.prerelease[i]!);
    if (c !== 0) return c;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

/**
 * A predicate "version ≥ `minVersion`". Versions that do not parse fail it (an unknown process
 * must not receive WALs).
 * @throws RangeError when `minVersion` itself is not a semver (a configuration bug).
 */
export function minVersionFilter(minVersion: string): (version: string) => boolean {
  const min = parseSemVer(minVersion);
  if (min === undefined) throw new RangeError(`minVersion is not a semver: ${JSON.stringify(minVersion)}`);
  return (version) => {
    const v = parseSemVer(version);
    return v !== undefined && compareSemVer(v, min) >= 0;
  };
}
