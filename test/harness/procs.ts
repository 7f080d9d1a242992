/**
 * Child processes for e2e and chaos tests: spawn, wait for the JSON ready line (`{"msg":"ready",...}`
 * on stdout, STYLE §8), signal, stop, and always clean up: every process is SIGKILLed when the
 * test process exits, and `useProcesses()` stops them in the test hooks.
 *
 * @example
 * ```ts
 * const start = useProcesses();
 * it('serves', async () => {
 *   const node = await start({ cmd: process.execPath, args: ['dist/node/main.js', '--port', '0'] });
 *   const port = node.ready['grpcPort'];
 *   node.pause(); // SIGSTOP: a stalled node
 * });
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { Deferred, RingBuffer, waitFor } from '../../shared/util/index.js';

/** What to spawn and how to wait for it. */
export interface StartProcessOptions {
  readonly cmd: string;
  readonly args?: readonly string[];
  /** Added to (and overriding) the test process's environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Default 20 000. */
  readonly readyTimeoutMs?: number;
  /** `false`: return right after spawning (for commands that just run and exit). Default true. */
  readonly waitReady?: boolean;
  /** Shown in errors; default the last path segment of the first arg, or `cmd`. */
  readonly name?: string;
  /** Lines of stdout and of stderr kept for error messages and `lines()`. Default 200. */
  readonly keepLines?: number;
  /** `pipe` exposes `child.stdin`. Default `ignore`. */
  readonly stdin?: 'ignore' | 'pipe';
}

/** How a process ended: an exit code, or the signal that killed it. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The parsed ready line. */
export type ReadyLine = Readonly<Record<string, unknown>>;
type Stream = 'stdout' | 'stderr';

/** After `exit`, wait this long for `close` (pipes drained); longer means a grandchild holds them. */
const CLOSE_AFTER_EXIT_MS = 2_000;
const live = new Set<TestProcess>();
// Last line of defence (a crashed test file, a missing hook): never leave children behind.
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Processes started by this harness that have not exited yet. */
export function liveProcesses(): readonly TestProcess[] {
  return [...live];
}

/** A spawned child process with its recent output. */
export class TestProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly #tails: Record<Stream, RingBuffer<string>> = { stdout: new RingBuffer(), stderr: new RingBuffer() };
  readonly #keep: number;
  readonly #exited = new Deferred<ExitInfo>();
  readonly #ready = new Deferred<ReadyLine>();
  #exitInfo: ExitInfo | undefined;
  #readyLine: ReadyLine | undefined;
  #paused = false;

  constructor(options: StartProcessOptions) {
    this.name = options.name ?? defaultName(options);
    this.#keep = options.keepLines ?? 200;
    this.child = spawn(options.cmd, [...(options.args ?? [])], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    this.#readLines('stdout');
    this.#readLines('stderr');
    this.#watchExit();
    // Nobody may be waiting for readiness (waitReady: false); don't turn that into an unhandled rejection.
    this.#ready.promise.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
  get paused(): boolean {
    return this.#paused;
  }
  /** The ready line; throws if it has not been seen. */
  get ready(): ReadyLine {
    if (!this.#readyLine) throw new Error(`${this.name} has not printed its ready line`);
    return this.#readyLine;
  }
  /** Exit code and signal once the process has exited. */
  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  /** The kept lines of one stream, oldest first. */
  lines(stream: Stream = 'stdout'): string[] {
    return [...this.#tails[stream]];
  }

  /** The kept output of both streams, formatted for an error message. */
  output(): string {
    const block = (s: Stream): string => `--- ${s} (last ${this.#tails[s].length} lines) ---\n${this.lines(s).join('\n')}`;
    return `${block('stdout')}\n${block('stderr')}`;
  }

  /** Resolves with the ready line; rejects if the process exits first or the timeout passes. */
  waitReady(timeoutMs = 20_000): Promise<ReadyLine> {
    return withTimeout(this.#ready.promise, timeoutMs, () => `${this.name} printed no ready line within ${timeoutMs} ms\n${this.output()}`);
  }

  /** Sends `signal` (default SIGKILL); ignored once the process has exited. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#exitInfo || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
  }

  /** SIGSTOP: the process stops running but keeps its sockets and locks. */
  pause(): void {
    if (this.#exitInfo) return;
    this.kill('SIGSTOP');
    this.#paused = true;
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    this.kill('SIGCONT');
    this.#paused = false;
  }

  /** Resolves with how the process ended; rejects after `timeoutMs` (default: wait forever). */
  waitExit(timeoutMs?: number): Promise<ExitInfo> {
    if (timeoutMs === undefined) return this.#exited.promise;
    return withTimeout(this.#exited.promise, timeoutMs, () => `${this.name} did not exit within ${timeoutMs} ms\n${this.output()}`);
  }

  /** SIGTERM (resuming a paused process first), then SIGKILL if it is still alive after `graceMs`. */
  async stop(graceMs = 5_000): Promise<ExitInfo> {
    if (this.#exitInfo) return this.#exitInfo;
    // A stopped process would not run its SIGTERM handler, so the grace period would be wasted.
    if (this.#paused) this.resume();
    this.kill('SIGTERM');
    try {
      return await this.waitExit(graceMs);
    } catch {
      this.kill('SIGKILL');
      return this.#exited.promise;
    }
  }

  /**
   * Waits until a line of `stream` matches; lines already kept count. Returns the line.
   * Rejects on timeout (default 10 000 ms) with the kept output.
   */
  async waitForLine(match: RegExp | ((line: string) => boolean), options: { stream?: Stream; timeoutMs?: number } = {}): Promise<string> {
    const { stream = 'stdout', timeoutMs = 10_000 } = options;
    const test = typeof match === 'function' ? match : (line: string) => match.test(line);
    try {
      return await waitFor(() => this.lines(stream).find(test), { timeoutMs, intervalMs: 20, message: `a ${stream} line matching ${String(match)}` });
    } catch (error) {
      throw new Error(`${this.name}: ${(error as Error).message}\n${this.output()}`);
    }
  }

  #readLines(stream: Stream): void {
    const source = this.child[stream];
    if (!source) return;
    source.setEncoding('utf8');
    let partial = '';
    source.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.#onLine(stream, line.replace(/\r$/, ''));
    });
    source.on('end', () => {
      if (partial !== '') this.#onLine(stream, partial);
      partial = '';
    });
  }

  #onLine(stream: Stream, line: string): void {
    const tail = this.#tails[stream];
    tail.push(line);
    if (tail.length > this.#keep) tail.shift();
    const ready = stream === 'stdout' && !this.#readyLine ? parseReady(line) : undefined;
    if (ready) {
      this.#readyLine = ready;
      this.#ready.resolve(ready);
    }
  }

  #watchExit(): void {
    let closeTimer: NodeJS.Timeout | undefined;
    const finish = (info: ExitInfo): void => {
      clearTimeout(closeTimer);
      this.#exitInfo ??= info;
      live.delete(this);
      this.#paused = false;
      const how = this.#exitInfo.signal ? `signal ${this.#exitInfo.signal}` : `code ${String(this.#exitInfo.code)}`;
      this.#ready.reject(new Error(`${this.name} exited (${how}) before printing its ready line\n${this.output()}`));
      this.#exited.resolve(this.#exitInfo);
    };
    this.child.on('exit', (code, signal) => {
      closeTimer = setTimeout(() => finish({ code, signal }), CLOSE_AFTER_EXIT_MS);
      closeTimer.unref();
    });
    // `close` comes after the pipes are drained, so every output line has been seen by then.
    this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => finish({ code, signal }));
    this.child.on('error', (error) => {
      this.#tails.stderr.push(`spawn error: ${error.message}`);
      if (this.child.pid === undefined) finish({ code: null, signal: null });
    });
  }
}

/**
 * Spawns a process and, unless `waitReady: false`, waits for its ready line. If it fails to get
 * ready, the process is killed and the error shows its last output lines.
 */
export async function startProcess(options: StartProcessOptions): Promise<TestProcess> {
  const proc = new TestProcess(options);
  if (options.waitReady !== false) await readyOrKill(proc, options.readyTimeoutMs);
  return proc;
}

async function readyOrKill(proc: TestProcess, timeoutMs: number | undefined): Promise<void> {
  await proc.waitReady(timeoutMs).catch(async (error: unknown) => {
    proc.kill('SIGKILL');
    await proc.waitExit();
    throw error;
  });
}

/**
 * Returns a starter bound to the calling file's (or `describe` block's) hooks: processes started
 * inside a test are stopped in `afterEach`, those started in `beforeAll` in `afterAll`. The
 * process is registered before it is ready, so a test that times out while waiting still cleans up.
 * Call it before registering your own `beforeEach` hooks, so starts made there count as per-test.
 */
export function useProcesses(options: { graceMs?: number } = {}): (opts: StartProcessOptions) => Promise<TestProcess> {
  const { graceMs = 5_000 } = options;
  const perTest = new Set<TestProcess>();
  const perSuite = new Set<TestProcess>();
  let inTest = false;
  beforeEach(() => void (inTest = true));
  afterEach(async () => {
    inTest = false;
    await stopAll(perTest, graceMs);
  });
  afterAll(() => stopAll(perSuite, graceMs));
  return async (opts) => {
    const proc = new TestProcess(opts);
    (inTest ? perTest : perSuite).add(proc);
    if (opts.waitReady !== false) await readyOrKill(proc, opts.readyTimeoutMs);
    return proc;
  };
}

async function stopAll(procs: Set<TestProcess>, graceMs: number): Promise<void> {
  const list = [...procs];
  procs.clear();
  await Promise.all(list.map(async (p) => p.stop(graceMs)));
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function parseReady(line: string): ReadyLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && (parsed as ReadyLine)['msg'] === 'ready' ? (parsed as ReadyLine) : undefined;
  } catch {
    return undefined; // not JSON after all: an ordinary output line
  }
}

function defaultName(options: StartProcessOptions): string {
  const first = options.args?.find((a) => !a.startsWith('-'));
  return (first ?? options.cmd).split('/').pop() ?? options.cmd;
}
