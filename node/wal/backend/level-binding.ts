/**
 * Which classic-level native binary this process loads: the source build that
 * `scripts/build-leveldb.mjs` makes at install time (LevelDB with SSE4.2 CRC32C) or the package's
 * prebuilt one (software CRC32C, ~30 % more LevelDB CPU per byte). The node logs it at start and
 * the benchmarks record it, because it changes the write path's throughput.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What {@link levelBinding} found. */
export interface LevelBindingInfo {
  /** `source`: built here by the post-install step; `prebuilt`: the binary shipped with the package. */
  readonly kind: 'source' | 'prebuilt';
  /** How LevelDB computes its CRC32C checksums. */
  readonly crc32c: 'sse4.2' | 'software';
  readonly classicLevelVersion: string;
}

const STAMP_FILE = 'streaming-wal-build.json';

/**
 * Reads the install layout the same way node-gyp-build chooses a binary: a `build/Release` binary
 * wins over the prebuilds. A source build without our stamp (someone ran `npm rebuild` by hand)
 * counts as software CRC32C, since nothing says it was built with SSE4.2. `dir`: the classic-level
 * package directory (default: the one `level` loads).
 */
export function levelBinding(dir?: string): LevelBindingInfo {
  let packageDir: string;
  let version = 'unknown';
  try {
    packageDir = dir ?? installedClassicLevelDir();
    version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown }).version?.toString() ?? 'unknown';
  } catch {
    // Only informational: a layout this cannot read must not keep a node from starting.
    return { kind: 'prebuilt', crc32c: 'software', classicLevelVersion: version };
  }
  // node-gyp-build skips build/Release when PREBUILDS_ONLY is set.
  if (process.env['PREBUILDS_ONLY'] !== undefined && process.env['PREBUILDS_ONLY'] !== '') {
    return { kind: 'prebuilt', crc32c: 'software', classicLevelVersion: version };
  }
  if (!existsSync(join(packageDir, 'build', 'Release', 'classic_level.node'))) {
    return { kind: 'prebuilt', crc32c: 'software', classicLevelVersion: version };
  }
  return { kind: 'source', crc32c: stampedCrc32c(join(packageDir, 'build', STAMP_FILE)), classicLevelVersion: version };
}

/** What the post-install step's stamp says; software when it is missing or unreadable. */
function stampedCrc32c(stamp: string): LevelBindingInfo['crc32c'] {
  try {
    return (JSON.parse(readFileSync(stamp, 'utf8')) as { crc32c?: unknown }).crc32c === 'sse4.2' ? 'sse4.2' : 'software';
  } catch {
    return 'software';
  }
}

function installedClassicLevelDir(): string {
  const fromLevel = createRequire(createRequire(import.meta.url).resolve('level/package.json'));
  return dirname(fromLevel.resolve('classic-level/package.json'));
}
