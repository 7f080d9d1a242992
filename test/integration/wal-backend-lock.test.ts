/**
 * Across processes, LevelDB's directory lock admits one holder of a pchannel: a second process
 * gets a clear StreamingError (RESOURCE_ACQUIRED) at once instead of hanging, and once the holder
 * is killed with SIGKILL, the next process opens the pchannel and finds every acknowledged append.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LevelWalBackendOpener } from '../../node/wal/backend/index.js';
import { StreamingCode, StreamingError } from '../../shared/errors/index.js';
import { pchannelInfo } from '../../shared/message/index.js';
import { useProcesses } from '../harness/procs.js';
import { uniqueName } from '../harness/unique.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = join(ROOT, 'test/fixtures/wal-backend-lock-child.ts');

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('WAL backend directory lock across processes', () => {
  const start = useProcesses();
  const child = (dataRoot: string, pchannel: string, term: number, ...mode: string[]) =>
    start({ cmd: process.execPath, args: ['--import', 'tsx', CHILD, dataRoot, pchannel, String(term), ...mode], cwd: ROOT, name: `lock-child-${mode[0]}` });

  it('refuses a second process with RESOURCE_ACQUIRED, then hands over after the holder is killed', async () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'wal-backend-lock-'));
    roots.push(dataRoot);
    const pchannel = uniqueName('lock');

    const holder = await child(dataRoot, pchannel, 1, 'hold', '100');
    const ids = holder.ready['ids'] as string[];
    expect(ids).toHaveLength(100);

    const contender = await child(dataRoot, pchannel, 2, 'try');
    expect(contender.ready).toMatchObject({ ok: false, code: StreamingCode.RESOURCE_ACQUIRED });
    expect(contender.ready['message']).toContain(pchannel);
    expect(contender.ready['message']).toContain('held by another process');
    expect(contender.ready['elapsedMs']).toBeLessThan(5_000);
    expect(await contender.waitExit()).toEqual({ code: 0, signal: null });

    // This test process is a third one: refused the same way.
    const opener = new LevelWalBackendOpener({ dataRoot });
    try {
      const error = await opener.open(pchannelInfo(pchannel, 2n)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StreamingError);
      expect((error as StreamingError).code).toBe(StreamingCode.RESOURCE_ACQUIRED);
    } finally {
      await opener.close();
    }

    holder.kill('SIGKILL');
    await holder.waitExit();
    const successor = await child(dataRoot, pchannel, 2, 'try');
    expect(successor.ready).toMatchObject({ ok: true, count: 100, last: ids[99] });
  });
});
