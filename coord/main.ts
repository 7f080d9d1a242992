/**
 * The coordinator as a process (STYLE §5): parse flags, load the config once, start the server,
 * print one JSON ready line on stdout, and stop gracefully on SIGTERM / SIGINT.
 *
 * ```
 * node --import tsx coord/main.ts --etcd 127.0.0.1:2379 --root by-dev/meta --pchannels 16 \
 *   --cluster by-dev --port 22220 [--host 0.0.0.0] [--advertise coord-1:22220] [--config coord.json] \
 *   [--session-ttl-ms 10000] [--log-level debug]
 * ```
 * Config: defaults ← `--config` JSON file ← `STREAMING_*` environment ← flags. The meta store is
 * etcd when etcd endpoints are configured by any source; otherwise an embedded LevelDB store
 * under `<standalone.dataDir>/meta` (`--data-dir`), for a coordinator run alone.
 *
 * Ready line: `{"msg":"ready","role":"streamingcoord","grpcPort":…,"serverId":…,"active":…,"address":…}`
 * (`active: false` = a standby; it takes over, with a new server id, when the active one goes).
 *
 * Exit codes: 0 after a clean stop on a signal; 1 if starting failed or a shutdown step threw;
 * 2 for usage or configuration errors (no ready line). A second signal while stopping exits at
 * once with 1.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { StreamingError, createRootLogger, describeError, loadConfig, runUntilSignal } from '../shared/index.js';
import type { Config, ProcessIoOptions, RootLogger } from '../shared/index.js';
import { coordMetaStoreFor, coordOverrides, type CoordFlags } from './main-flags.js';
import { CoordinatorServer, type CoordinatorServerInfo, type CoordinatorServerOptions } from './server.js';

/** Options of {@link runCoordinator}. */
export interface RunCoordinatorOptions extends Omit<CoordinatorServerOptions, 'logger' | 'config'>, ProcessIoOptions {
  /** Loaded once (`loadConfig`) and frozen. */
  readonly config: Config;
  /** Default: pino to stderr at `config.log.level`, base field `{service: 'streamingcoord'}`. */
  readonly logger?: RootLogger;
}

/** The ready line's fields (`active: false` = a standby). */
export function coordinatorReadyFields(info: CoordinatorServerInfo): Record<string, unknown> {
  return { role: 'streamingcoord', grpcPort: info.grpcPort, serverId: Number(info.serverId), active: info.active, address: info.address };
}

/** Runs a coordinator until a signal stops it; resolves with the exit code. */
export function runCoordinator(options: RunCoordinatorOptions): Promise<number> {
  const { config } = options;
  const logger = options.logger ?? createRootLogger({ service: 'streamingcoord', level: config.log.level });
  const server = new CoordinatorServer({ ...options, logger });
  return runUntilSignal({
    name: 'streaming coordinator',
    // Only signals stop a coordinator: a lost session makes it a standby again, not an exit.
    service: { start: () => server.start(), close: () => server.close() },
    ready: coordinatorReadyFields,
    logger,
    stdout: options.stdout,
    signals: options.signals,
  });
}

/** The flags (see the module comment); `commander` parses them. */
function buildCommand(): Command {
  return new Command('streamingcoord')
    .description('run a streaming coordinator (active/standby through the meta store)')
    .option('--etcd <endpoints>', 'etcd endpoints, comma-separated (config etcd.endpoints)')
    .option('--root <path>', 'meta root path (config etcd.rootPath, default by-dev/meta)')
    .option('--pchannels <n>', 'number of pchannels <cluster>-rootcoord-dml_<i> (config coord.pchannelCount, default 16)')
    .option('--cluster <name>', 'cluster name, the pchannel prefix (config coord.clusterName, default by-dev)')
    .option('--host <host>', 'gRPC listen host (config coord.host, default 127.0.0.1)')
    .option('--port <port>', 'gRPC port, 0 = any free port (config coord.port, default 22220)')
    .option('--advertise <host:port>', 'address published to clients and standbys (config coord.advertise; default host:bound port)')
    .option('--config <file>', 'JSON config file (any subset of the config tree)')
    .option('--session-ttl-ms <ms>', 'session lease TTL in ms, >= 2000 (config session.ttlMs); a standby takes over within about this long')
    .option('--session-ttl <ms>', 'alias of --session-ttl-ms, as in `walctl node`')
    .option('--balance-interval-ms <ms>', 'periodic balance round (config coord.balanceIntervalMs)')
    .option('--data-dir <dir>', 'without etcd: the embedded meta store lives in <dir>/meta (config standalone.dataDir)')
    .option('--log-level <level>', 'trace | debug | info | warn | error | fatal | silent (config log.level)')
    .showHelpAfterError()
    .exitOverride();
}

/** Options of {@link runCoordinatorMain}. */
export interface RunCoordinatorMainOptions extends Pick<RunCoordinatorOptions, 'stdout' | 'signals' | 'registry' | 'tuning'> {
  /** `node` (default): `argv` is `process.argv` (runtime and script first); `user`: flags only. */
  readonly from?: 'node' | 'user';
  /** Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The process entry: parses `argv`, loads the config and runs the coordinator; resolves with the
 * exit code (see the module comment).
 *
 * @example
 * ```ts
 * process.exitCode = await runCoordinatorMain(process.argv);
 * ```
 */
export async function runCoordinatorMain(argv: readonly string[], options: RunCoordinatorMainOptions = {}): Promise<number> {
  const { env = process.env, from = 'node' } = options;
  const command = buildCommand();
  try {
    command.parse([...argv], { from });
  } catch (error) {
    // Help exits 0 through here; usage errors were already printed (stderr) by commander.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const flags = command.opts<CoordFlags>();
  let config: Config;
  try {
    config = loadConfig({ ...(flags.config === undefined ? {} : { file: flags.config }), env, overrides: coordOverrides(flags) });
  } catch (error) {
    const logger = createRootLogger({ service: 'streamingcoord', env });
    logger.error({ err: describeError(error) }, 'invalid configuration');
    logger.flush();
    return error instanceof StreamingError && error.isInvalidArgument() ? 2 : 1;
  }
  const { stdout, signals, registry, tuning } = options;
  return runCoordinator({
    config,
    metaStore: coordMetaStoreFor(flags, config, env),
    ...(stdout === undefined ? {} : { stdout }),
    ...(signals === undefined ? {} : { signals }),
    ...(registry === undefined ? {} : { registry }),
    ...(tuning === undefined ? {} : { tuning }),
  });
}

/** True when this module is the process's entry script (`node --import tsx coord/main.ts`). */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  process.exitCode = await runCoordinatorMain(process.argv);
  // Everything was closed; if some handle still holds the event loop, do not hang forever.
  setTimeout(() => process.exit(), 2_000).unref();
}
