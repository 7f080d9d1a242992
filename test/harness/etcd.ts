/**
 * A real single-member etcd as a child process, for tests: temp data dir, free loopback ports,
 * unique member name. One per test file (`beforeAll(startEtcd)`, `afterAll(etcd.close)`).
 *
 * Fault injection: `kill('SIGKILL')` + `restart()` (same data dir and ports, so data survives),
 * `pause()`/`resume()` (SIGSTOP/SIGCONT) to stall it.
 *
 * @example
 * ```ts
 * let etcd: EtcdProcess;
 * beforeAll(async () => { etcd = await startEtcd(); });
 * afterAll(async () => { await etcd?.close(); });
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports.js';
import { uniqueName } from './unique.js';
import { abortableSleep as pause } from '../../shared/util/index.js';

export interface StartEtcdOptions {
  /** How long to wait for etcd to answer /health (default 20 s). */
  readonly startTimeoutMs?: number;
}

/** A running (or stopped, restartable) etcd member. */
export interface EtcdProcess {
  /** Client URL, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** OS pid of the current etcd process (undefined while stopped). */
  readonly pid: number | undefined;
  /** Graceful stop (SIGTERM, SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it if running, then starts it again on the same data dir and ports. */
  restart(): Promise<void>;
  /** SIGSTOP: etcd keeps its sockets but answers nothing. Resolves once every etcd thread is
   *  stopped (signal delivery is asynchronous). */
  pause(): Promise<void>;
  /** SIGCONT after {@link pause}; resolves once etcd runs again. */
  resume(): Promise<void>;
  /** Last lines etcd wrote to stderr (its log). */
  stderrTail(): string;
  /** Kills etcd and deletes its data dir. Idempotent. */
  close(): Promise<void>;
}

const STDERR_TAIL_CHARS = 8_000;
const live = new Set<ChildProcess>();
const dataDirs = new Set<string>();
let exitHookInstalled = false;

/** Never leave an etcd behind, even when a test run dies: on process exit, kill every child
 *  and remove the data dirs not cleaned up yet (all synchronous, as 'exit' requires). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function etcdBinary(): string {
  return process.env.ETCD_BIN || 'etcd';
}

function healthy(clientPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port: clientPort, path: '/health', timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** True when every thread of `pid` is stopped (state T/t in /proc), false when none is. */
function threadsStopped(pid: number): boolean | undefined {
  let states: string[];
  try {
    states = readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The state follows the parenthesised command name, which may itself contain spaces.
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    });
  } catch {
    return undefined; // gone, or no /proc: nothing to wait for
  }
  const stopped = states.filter((st) => st === 'T' || st === 't').length;
  if (stopped === states.length) return true;
  if (stopped === 0) return false;
  return undefined;
}

async function waitForThreads(pid: number, stopped: boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const state = threadsStopped(pid);
    if (state === stopped || (state === undefined && !existsSync(`/proc/${pid}`))) return;
    await pause(5);
  }
  throw new Error(`etcd (pid ${pid}) did not ${stopped ? 'stop' : 'continue'} within 5 s`);
}

class EtcdChild implements EtcdProcess {
  readonly endpoint: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';
  #closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    private readonly startTimeoutMs: number,
  ) {
    this.endpoint = `http://127.0.0.1:${clientPort}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  stderrTail(): string {
    return this.#stderr;
  }

  /** Spawns etcd and waits for /health; rejects with etcd's stderr tail if it fails. */
  async start(): Promise<void> {
    const peerUrl = `http://127.0.0.1:${this.peerPort}`;
    const args = [
      '--name', this.name,
      '--data-dir', this.dataDir,
      '--listen-client-urls', this.endpoint,
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `${this.name}=${peerUrl}`,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-outputs', 'stderr',
    ];
    installExitHook();
    dataDirs.add(this.dataDir);
    const child = spawn(etcdBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    live.add(child);
    let spawnError: Error | undefined;
    let exitCode: number | string | null | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once('error', (e) => {
        spawnError = e;
        live.delete(child);
        resolve();
      });
      child.once('exit', (code, signal) => {
        exitCode = code ?? signal;
        live.delete(child);
        resolve();
      });
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (spawnError !== undefined) {
        const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        throw new Error(
          missing
            ? `etcd binary '${etcdBinary()}' not found: install etcd-server (apt-get install -y etcd-server) or set ETCD_BIN`
            : `cannot start etcd: ${spawnError.message}`,
          { cause: spawnError },
        );
      }
      if (exitCode !== undefined) throw new Error(`etcd exited (${exitCode}) during start; stderr tail:\n${this.#stderr}`);
      if (await healthy(this.clientPort)) return;
      await pause(50);
    }
    await this.kill('SIGKILL');
    throw new Error(`etcd did not become healthy within ${this.startTimeoutMs} ms; stderr tail:\n${this.#stderr}`);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      // A stopped process only acts on SIGTERM once it runs again.
      if (signal !== 'SIGKILL') child.kill('SIGCONT');
    }
    await this.#exited;
    this.#child = undefined;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const escalate = setTimeout(() => child.kill('SIGKILL'), 5_000);
    try {
      await this.kill('SIGTERM');
    } finally {
      clearTimeout(escalate);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    // The ports were ours a moment ago; a short retry covers a slow socket release.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (e) {
        if (attempt >= 3 || !this.#stderr.includes('address already in use')) throw e;
        await pause(200);
      }
    }
  }

  async pause(): Promise<void> {
    const child = this.#child;
    if (child?.pid === undefined) return;
    child.kill('SIGSTOP');
    await waitForThreads(child.pid, true);
  }

  async resume(): Promise<void> {
    const child = this.#child;
    if (child?.pid === undefined) return;
    child.kill('SIGCONT');
    await waitForThreads(child.pid, false);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.kill('SIGKILL');
      rmSync(this.dataDir, { recursive: true, force: true });
      dataDirs.delete(this.dataDir);
    })();
    return this.#closing;
  }
}

/**
 * Starts a fresh single-member etcd on free loopback ports with a temp data dir. Fails with a
 * clear message if the binary is missing (`ETCD_BIN` overrides the `etcd` on PATH) or etcd does
 * not come up (the message includes etcd's stderr tail).
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  for (let attempt = 1; ; attempt++) {
    const [clientPort, peerPort] = await freePorts(2);
    const dataDir = mkdtempSync(join(tmpdir(), 'etcd-test-'));
    const etcd = new EtcdChild(uniqueName('etcd'), clientPort!, peerPort!, dataDir, startTimeoutMs);
    try {
      await etcd.start();
      return etcd;
    } catch (e) {
      await etcd.close();
      // Another process may have taken a port between our probe and etcd's bind: try new ones.
      if (attempt >= 3 || !etcd.stderrTail().includes('address already in use')) throw e;
    }
  }
}
