/**
 * The post-install step (`scripts/build-leveldb.mjs`) swaps classic-level's prebuilt binary for a
 * source build with hardware CRC32C. Both must read what the other wrote, including a log that was
 * never closed: LevelDB replays it on open and silently drops records whose CRC does not match, so
 * a checksum mismatch would show up here as missing appends. Each writer is SIGKILLed after its
 * acknowledged appends; the next process, on the other binary, must find all of them.
 * `PREBUILDS_ONLY=1` makes node-gyp-build load the prebuilt binary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { levelBinding } from '../../node/wal/backend/index.js';
import { useProcesses } from '../harness/procs.js';
import { uniqueName } from '../harness/unique.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = join(ROOT, 'test/fixtures/wal-backend-lock-child.ts');
const PREBUILT = { PREBUILDS_ONLY: '1' };
const SOURCE = { PREBUILDS_ONLY: undefined };

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(levelBinding().kind !== 'source')('LevelDB source build and prebuilt binary read each other', () => {
  const start = useProcesses();
  const child = (env: Record<string, string | undefined>, dataRoot: string, pchannel: string, term: number, ...mode: string[]) =>
    start({ cmd: process.execPath, args: ['--import', 'tsx', CHILD, dataRoot, pchannel, String(term), ...mode], env, cwd: ROOT, name: `binding-${mode[0]}` });

  /** Appends 100 messages on `writer`, is killed, then a reader on the other binary counts everything. */
  async function handOver(writer: typeof SOURCE | typeof PREBUILT, reader: typeof SOURCE | typeof PREBUILT, dataRoot: string, pchannel: string, term: number, before: number): Promise<void> {
    const holder = await child(writer, dataRoot, pchannel, term, 'hold', '100');
    const ids = holder.ready['ids'] as string[];
    expect(ids).toHaveLength(100);
    holder.kill('SIGKILL');
    await holder.waitExit();
    const successor = await child(reader, dataRoot, pchannel, term + 1, 'try');
    expect(successor.ready).toMatchObject({ ok: true, count: before + 100, last: ids[99] });
  }

  it('recovers an unclosed log written by the other binary, both ways', async () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'level-binding-compat-'));
    roots.push(dataRoot);
    const pchannel = uniqueName('binding');
    await handOver(PREBUILT, SOURCE, dataRoot, pchannel, 1, 0);
    await handOver(SOURCE, PREBUILT, dataRoot, pchannel, 3, 100);
  });
});
