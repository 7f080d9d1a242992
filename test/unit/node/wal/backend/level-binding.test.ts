import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { levelBinding } from '../../../../../node/wal/backend/level-binding.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A classic-level package directory as npm lays it out, optionally with a source build and our stamp. */
function packageDir(build: { binary: boolean; stamp?: Record<string, unknown> }): string {
  const dir = mkdtempSync(join(tmpdir(), 'level-binding-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'classic-level', version: '3.0.0' }));
  if (build.binary) {
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    writeFileSync(join(dir, 'build', 'Release', 'classic_level.node'), '');
  }
  if (build.stamp !== undefined) {
    mkdirSync(join(dir, 'build'), { recursive: true });
    writeFileSync(join(dir, 'build', 'streaming-wal-build.json'), JSON.stringify(build.stamp));
  }
  return dir;
}

describe('levelBinding', () => {
  it('reports the prebuilt binary when there is no source build', () => {
    expect(levelBinding(packageDir({ binary: false }))).toEqual({ kind: 'prebuilt', crc32c: 'software', classicLevelVersion: '3.0.0' });
  });

  it('reports SSE4.2 CRC32C only for a source build the post-install step stamped', () => {
    expect(levelBinding(packageDir({ binary: true, stamp: { crc32c: 'sse4.2' } }))).toEqual({ kind: 'source', crc32c: 'sse4.2', classicLevelVersion: '3.0.0' });
    expect(levelBinding(packageDir({ binary: true })).crc32c).toBe('software');
    expect(levelBinding(packageDir({ binary: true, stamp: { crc32c: 'other' } })).crc32c).toBe('software');
  });

  it('ignores a stamp without the binary it describes', () => {
    expect(levelBinding(packageDir({ binary: false, stamp: { crc32c: 'sse4.2' } })).kind).toBe('prebuilt');
  });

  it('never throws: a corrupt stamp counts as software CRC32C, an unreadable package as unknown', () => {
    const corrupt = packageDir({ binary: true });
    writeFileSync(join(corrupt, 'build', 'streaming-wal-build.json'), '{ half a stamp');
    expect(levelBinding(corrupt)).toEqual({ kind: 'source', crc32c: 'software', classicLevelVersion: '3.0.0' });
    const missing = join(packageDir({ binary: false }), 'no-such-package');
    expect(levelBinding(missing)).toEqual({ kind: 'prebuilt', crc32c: 'software', classicLevelVersion: 'unknown' });
  });

  it('finds the classic-level this project loads', () => {
    expect(levelBinding().classicLevelVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
