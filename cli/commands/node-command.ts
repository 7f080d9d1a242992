/**
 * `walctl node`: runs a streaming node process.
 *
 * ```
 * walctl node --etcd 127.0.0.1:2379 --root by-dev/meta --data-root /var/lib/wal \
 *   --port 22222 --advertise node-1:22222 --coord coord:22220 [--config node.json] [--log-level debug]
 * ```
 *
 * Config is loaded once: defaults ← `--config` JSON file ← `STREAMING_*` environment ← flags.
 * The meta store is etcd when etcd endpoints are configured anywhere (flag, environment or
 * file); otherwise an embedded LevelDB store under `<data-root>/meta`, for a node run alone.
 * `--coord` (config `coord.advertise`) names the coordinator whose TSO the node uses; without it
 * the node allocates timestamps from its own clock, which is only correct for a lone node.
 */
import type { Command } from 'commander';
import { type SessionLossPolicy, embeddedMetaDir, runNode } from '../../node/index.js';
import { type Config, type ConfigOverrides, type MetaStoreSpec, etcdEndpointsConfigured, loadConfig, splitList } from '../../shared/index.js';

/** Flags of `walctl node` as commander parses them (all text; loadConfig parses numbers). */
export interface NodeCommandFlags {
  readonly etcd?: string;
  readonly root?: string;
  readonly dataRoot?: string;
  readonly host?: string;
  readonly port?: string;
  readonly advertise?: string;
  readonly coord?: string;
  readonly config?: string;
  readonly logLevel?: string;
  readonly sessionTtl?: string;
  readonly onSessionLost?: string;
}

/** Adds the `node` command to `program`; its action sets `process.exitCode`. */
export function addNodeCommand(program: Command): void {
  program
    .command('node')
    .description('run a streaming node (serves WALs of the pchannels the coordinator assigns to it)')
    .option('--etcd <endpoints>', 'etcd endpoints, comma-separated (config etcd.endpoints)')
    .option('--root <path>', 'meta root path in etcd (config etcd.rootPath, default by-dev/meta)')
    .option('--data-root <dir>', 'data directory: WALs under <dir>/wal/ (config node.dataRoot)')
    .option('--host <host>', 'gRPC listen host (config node.host, default 127.0.0.1)')
    .option('--port <port>', 'gRPC port, 0 = any free port (config node.port, default 22222)')
    .option('--advertise <host:port>', 'address published in the session (config node.advertise; default host:bound port)')
    .option('--coord <address>', "the coordinator's address for timestamps (config coord.advertise)")
    .option('--config <file>', 'JSON config file (any subset of the config tree)')
    .option('--log-level <level>', 'trace | debug | info | warn | error | fatal | silent (config log.level)')
    .option('--session-ttl <ms>', 'session lease TTL in ms, >= 2000 (config session.ttlMs)')
    .option('--on-session-lost <policy>', 'after a self-fence: reregister (default) or exit')
    .action(async (flags: NodeCommandFlags) => {
      process.exitCode = await runNodeCommand(flags);
    });
}

/** Loads the config from `flags` and runs the node; resolves with the exit code. */
export async function runNodeCommand(flags: NodeCommandFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig({
    ...(flags.config !== undefined ? { file: flags.config } : {}),
    env,
    overrides: nodeOverrides(flags),
  });
  return runNode({ config, metaStore: metaStoreFor(flags, config, env), onSessionLost: sessionLossPolicy(flags.onSessionLost) });
}

/** CLI flags as config overrides (undefined = not given). */
export function nodeOverrides(flags: NodeCommandFlags): ConfigOverrides {
  // loadConfig parses the text of number flags and names the flag's key in its errors.
  const text = <T>(value: string | undefined): T | undefined => value as T | undefined;
  return {
    etcd: { endpoints: flags.etcd === undefined ? undefined : splitList(flags.etcd), rootPath: flags.root },
    node: { host: flags.host, port: text<number>(flags.port), advertise: flags.advertise, dataRoot: flags.dataRoot },
    coord: { advertise: flags.coord },
    session: { ttlMs: text<number>(flags.sessionTtl) },
    log: { level: text<Config['log']['level']>(flags.logLevel) },
  };
}

/** etcd when endpoints were configured by any source, else the embedded store (see the file comment). */
export function metaStoreFor(flags: NodeCommandFlags, config: Config, env: NodeJS.ProcessEnv): MetaStoreSpec {
  const configured = etcdEndpointsConfigured({ flag: flags.etcd, file: flags.config, env });
  return configured ? { kind: 'etcd' } : { kind: 'embedded', dir: embeddedMetaDir(config) };
}

function sessionLossPolicy(value: string | undefined): SessionLossPolicy {
  if (value === undefined || value === 'reregister' || value === 'exit') return value ?? 'reregister';
  throw new TypeError(`--on-session-lost must be reregister or exit, got ${JSON.stringify(value)}`);
}
