import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../shared/util/index.js';
import { liveProcesses, startProcess, useProcesses, type StartProcessOptions, type TestProcess } from '../../harness/procs.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/procs-child.mjs', import.meta.url));
const fixture = (...flags: string[]): StartProcessOptions => ({ cmd: process.execPath, args: [FIXTURE, ...flags] });

/** Processes started with the bare `startProcess` in this file; killed after each test regardless. */
const started: TestProcess[] = [];
async function start(options: StartProcessOptions): Promise<TestProcess> {
  const proc = await startProcess(options);
  started.push(proc);
  return proc;
}
afterEach(async () => {
  for (const p of started.splice(0)) {
    p.kill('SIGKILL');
    await p.waitExit();
  }
});

/** Scheduler state of a process from /proc (`T` = stopped). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

describe('startProcess', () => {
  it('waits for the JSON ready line and returns it parsed', async () => {
    const proc = await start({ ...fixture(), env: { PROCS_FIXTURE_VALUE: 'from-test' } });
    expect(proc.ready).toMatchObject({ msg: 'ready', pid: proc.pid, value: 'from-test' });
    expect(typeof proc.ready['grpcPort']).toBe('number');
    // Lines before it (plain text, and JSON that is not the ready line) are kept, not mistaken.
    expect(proc.lines('stdout').slice(0, 2)).toEqual(['starting up', expect.stringContaining('"msg":"booting"')]);
    expect(proc.lines('stderr')).toContain('diag: booting');
  });

  it('stop() sends SIGTERM and reports a clean exit', async () => {
    const proc = await start(fixture());
    expect(await proc.stop()).toEqual({ code: 0, signal: null });
    expect(proc.lines('stdout')).toContain('stopping');
    expect(proc.exitInfo).toEqual({ code: 0, signal: null });
  });

  it('stop() falls back to SIGKILL after the grace period', async () => {
    const proc = await start(fixture('--ignore-sigterm'));
    // Make sure the handler has run once, so the outcome below does not depend on scheduling.
    proc.kill('SIGTERM');
    await proc.waitForLine(/ignoring SIGTERM/);
    expect(await proc.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('kill() delivers signals; waitExit() reports them', async () => {
    const proc = await start(fixture());
    proc.kill();
    expect(await proc.waitExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });
    proc.kill(); // after exit: a no-op
  });

  it('a crash on demand shows as a non-zero exit code with its stderr', async () => {
    const proc = await start(fixture());
    proc.kill('SIGUSR2');
    const exit = await proc.waitExit(10_000);
    expect(exit.code).toBe(1);
    expect(proc.lines('stderr').join('\n')).toContain('crash on demand');
  });

  it('a process that exits before ready fails the start and shows its output', async () => {
    const error = (await startProcess(fixture('--exit-before-ready=3')).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('exited (code 3) before printing its ready line');
    expect(error.message).toContain('starting up');
    expect(error.message).toContain('fatal: simulated startup failure');
  });

  it('a process that never gets ready times out and is killed', async () => {
    const error = (await startProcess({ ...fixture('--no-ready'), readyTimeoutMs: 300, name: 'silent' }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^silent printed no ready line within 300 ms\n--- stdout/);
    // The fixture never exits on its own, so leaving the live set means the harness killed it.
    expect(liveProcesses().map((p) => p.name)).not.toContain('silent');
  });

  it('reports a command that cannot be spawned', async () => {
    const error = (await startProcess({ cmd: '/nonexistent/binary', readyTimeoutMs: 5_000 }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('before printing its ready line');
    expect(error.message).toContain('ENOENT');
  });

  it('keeps only the last keepLines lines', async () => {
    const proc = await start({ ...fixture('--lines=50'), keepLines: 10 });
    const lines = proc.lines('stdout');
    expect(lines).toHaveLength(10);
    expect(lines[8]).toBe('line 50');
    expect(lines[9]).toContain('"msg":"ready"');
  });

  it('waitForLine() finds a line printed later', async () => {
    const proc = await start(fixture('--ignore-sigterm'));
    proc.kill('SIGTERM');
    expect(await proc.waitForLine(/ignoring/)).toBe('ignoring SIGTERM');
    await expect(proc.waitForLine(/never printed/, { timeoutMs: 100 })).rejects.toThrow(/a stdout line matching \/never printed\//);
  });

  it.skipIf(!existsSync('/proc/self/stat'))('pause() stops the process and resume() continues it', async () => {
    const proc = await start(fixture());
    const pid = proc.pid as number;
    proc.pause();
    expect(proc.paused).toBe(true);
    await waitFor(() => procState(pid) === 'T', { timeoutMs: 5_000, message: 'process stopped' });
    proc.resume();
    await waitFor(() => procState(pid) !== 'T', { timeoutMs: 5_000, message: 'process running again' });
    // A paused process can still be stopped cleanly: stop() resumes it before SIGTERM.
    proc.pause();
    await waitFor(() => procState(pid) === 'T', { timeoutMs: 5_000, message: 'process stopped again' });
    expect(await proc.stop()).toEqual({ code: 0, signal: null });
  });

  it('waitReady: false returns at once, for commands that just run', async () => {
    const proc = await startProcess({ ...fixture('--exit-before-ready=0'), waitReady: false });
    expect(await proc.waitExit(10_000)).toEqual({ code: 0, signal: null });
  });
});

describe('useProcesses', () => {
  let fromTest: TestProcess | undefined;
  let fromSuite: TestProcess | undefined;

  describe('inside', () => {
    const startManaged = useProcesses({ graceMs: 2_000 });
    beforeAll(async () => {
      fromSuite = await startManaged(fixture());
    });

    it('starts a process for this test', async () => {
      fromTest = await startManaged(fixture());
      expect(fromTest.exitInfo).toBeUndefined();
    });

    it('stopped the previous test’s process in afterEach, keeps the suite one', () => {
      expect(fromTest?.exitInfo).toEqual({ code: 0, signal: null });
      expect(fromSuite?.exitInfo).toBeUndefined();
    });
  });

  it('stopped the beforeAll process in afterAll', () => {
    expect(fromSuite?.exitInfo).toEqual({ code: 0, signal: null });
  });
});
