/**
 * How tests and benchmarks spawn `walctl` (through tsx, from the repository root): one set of
 * options, so every caller gets the same environment (no inherited `STREAMING_*` settings) and
 * a JSON ready line to wait for.
 *
 * @example
 * ```ts
 * const coord = await startProcess(walctlProcess('coord', ['--etcd', etcd.endpoint, '--pchannels', '4']));
 * const address = String(coord.ready['address']);
 * ```
 */
import { resolve } from 'node:path';
import type { StartProcessOptions } from './procs.js';

/** The repository root (where `cli/main.ts` lives). */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Options of {@link walctlProcess}. */
export interface WalctlProcessOptions {
  /** Node flags before `--import tsx` (e.g. `--cpu-prof`). */
  readonly nodeFlags?: readonly string[];
  /** Default 60 000: a cold tsx start on a busy 2-core machine takes seconds. */
  readonly readyTimeoutMs?: number;
  /** Default `warn`. */
  readonly logLevel?: string;
}

/** `walctl <kind> --port 0 --log-level warn …extra` as a child process's start options. */
export function walctlProcess(kind: 'coord' | 'node' | 'standalone', extra: readonly string[], options: WalctlProcessOptions = {}): StartProcessOptions {
  const portFlags = kind === 'standalone' ? ['--port', '0', '--node-port', '0'] : ['--port', '0'];
  return {
    cmd: process.execPath,
    args: [...(options.nodeFlags ?? []), '--import', 'tsx', 'cli/main.ts', kind, ...portFlags, '--log-level', options.logLevel ?? 'warn', ...extra],
    cwd: REPO_ROOT,
    name: `walctl-${kind}`,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    env: { STREAMING_LOG_LEVEL: undefined, STREAMING_ETCD_ENDPOINTS: undefined },
  };
}
