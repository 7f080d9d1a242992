/**
 * The committed generated types (shared/proto/generated/) must match what the generator produces
 * from proto/ today. Regenerate with `npm run gen:proto` when this fails.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../../..');

describe('generated proto types', () => {
  it('have not drifted from proto/', () => {
    const res = spawnSync(process.execPath, ['scripts/gen-proto.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(res.error).toBeUndefined();
    // On failure the assertion shows the script's list of drifted files.
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
    expect(res.stdout).toMatch(/up to date/);
  });
});
