/**
 * `walctl standalone`: the whole service in one process, no etcd needed — a coordinator and one
 * streaming node sharing an embedded meta store (LevelDB under `<data>/meta`), WALs under
 * `<data>/wal/<pchannel>`. The node takes its timestamps from the coordinator's TSO over loopback,
 * exactly as in a cluster. Prints one JSON ready line with both ports; SIGTERM / SIGINT stop it
 * (node first, then coordinator, then the meta store).
 *
 * ```
 * walctl standalone --data ./data --port 22220 --node-port 22222 --pchannels 16
 * ```
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CoordinatorServer, type CoordinatorServerInfo } from '../../coord/index.js';
import { NodeServer, type NodeServerInfo, type NodeServiceFactory } from '../../node/index.js';
import {
  type Config,
  type ConfigOverrides,
  DEFAULT_STANDALONE_DATA_DIR,
  Deferred,
  LevelMetaKV,
  type ProcessService,
  type RootLogger,
  StreamingError,
  createRootLogger,
  loadConfig,
  runUntilSignal,
} from '../../shared/index.js';

export interface StandaloneFlags {
  readonly data?: string;
  readonly host?: string;
  readonly port?: string;
  readonly nodePort?: string;
  readonly pchannels?: string;
  readonly config?: string;
  readonly logLevel?: string;
}

/** Services the node serves besides the manager/state/health ones (the Produce/Consume handler). */
export type StandaloneServices = readonly NodeServiceFactory[];

export function addStandaloneCommand(program: Command, services: StandaloneServices = []): void {
  program
    .command('standalone')
    .description('run coordinator + one streaming node in one process with an embedded meta store (no etcd)')
    .option('--data <dir>', 'data directory (meta store and WALs), default ./data')
    .option('--host <host>', 'listen host for both servers, default 127.0.0.1')
    .option('--port <port>', 'coordinator gRPC port, 0 = any free port (default 22220)')
    .option('--node-port <port>', 'streaming node gRPC port, 0 = any free port (default 22222)')
    .option('--pchannels <n>', 'number of pchannels (default 16)')
    .option('--config <file>', 'JSON config file (any subset of the config tree)')
    .option('--log-level <level>', 'trace | debug | info | warn | error | fatal | silent')
    .action(async (flags: StandaloneFlags) => {
      process.exitCode = await runStandalone(flags, services);
    });
}

function overrides(flags: StandaloneFlags, dataDir: string): ConfigOverrides {
  const text = <T>(value: string | undefined): T | undefined => value as T | undefined;
  return {
    coord: { host: flags.host, port: text<number>(flags.port), pchannelCount: text<number>(flags.pchannels) },
    node: { host: flags.host, port: text<number>(flags.nodePort), dataRoot: dataDir },
    standalone: { dataDir },
    log: { level: text<'info'>(flags.logLevel) },
  };
}

/** Runs until SIGTERM / SIGINT; resolves with the exit code (0 clean, 1 failure, 2 bad config). */
export async function runStandalone(flags: StandaloneFlags, services: StandaloneServices): Promise<number> {
  const dataDir = flags.data ?? DEFAULT_STANDALONE_DATA_DIR;
  let config;
  try {
    config = loadConfig({ ...(flags.config === undefined ? {} : { file: flags.config }), overrides: overrides(flags, dataDir) });
  } catch (error) {
    process.stderr.write(`walctl standalone: ${(error as Error).message}\n`);
    return 2;
  }
  const logger = createRootLogger({ service: 'standalone', level: config.log.level });
  const standalone = new Standalone(dataDir, config, services, logger);
  return runUntilSignal({
    name: 'standalone',
    service: standalone,
    ready: (info) => ({
      role: 'standalone',
      grpcPort: info.coord.grpcPort,
      nodeGrpcPort: info.node.grpcPort,
      coordAddress: info.coord.address,
      nodeAddress: info.node.address,
      nodeServerId: Number(info.node.serverId),
      dataDir,
    }),
    logger,
  });
}

/** Ports and ids of both servers. */
interface StandaloneInfo {
  readonly coord: CoordinatorServerInfo;
  readonly node: NodeServerInfo;
}

/**
 * The meta store, the coordinator and the node as one service: started in that order, closed in
 * the reverse one (every step runs even if an earlier one failed).
 */
class Standalone implements ProcessService<StandaloneInfo> {
  readonly #dataDir: string;
  readonly #config: Config;
  readonly #services: StandaloneServices;
  readonly #logger: RootLogger;
  #kv: LevelMetaKV | undefined;
  #coord: CoordinatorServer | undefined;
  #node: NodeServer | undefined;
  #closing: Promise<void> | undefined;
  readonly #nodeStarted = new Deferred<NodeServer>();

  constructor(dataDir: string, config: Config, services: StandaloneServices, logger: RootLogger) {
    this.#dataDir = dataDir;
    this.#config = config;
    this.#services = services;
    this.#logger = logger;
  }

  async start(): Promise<StandaloneInfo> {
    mkdirSync(join(this.#dataDir, 'meta'), { recursive: true });
    const kv = await LevelMetaKV.open(join(this.#dataDir, 'meta'));
    this.#kv = kv;
    this.#throwIfClosing();
    const coord = new CoordinatorServer({ config: this.#config, metaStore: { kind: 'injected', kv }, logger: this.#logger.child({ role: 'coord' }) });
    this.#coord = coord;
    const coordInfo = await coord.start();
    this.#throwIfClosing();
    const node = new NodeServer({
      config: this.#config,
      metaStore: { kind: 'injected', kv },
      coordAddress: () => coordInfo.address,
      services: this.#services,
      logger: this.#logger.child({ role: 'node' }),
    });
    this.#node = node;
    const nodeInfo = await node.start();
    this.#nodeStarted.resolve(node);
    return { coord: coordInfo, node: nodeInfo };
  }

  /** Resolves when the node stopped on its own. */
  async closed(): Promise<unknown> {
    const node = await this.#nodeStarted.promise;
    return node.closed();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const failures: unknown[] = [];
    for (const step of [() => this.#node?.close(), () => this.#coord?.close(), () => this.#kv?.close()]) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, `standalone: ${failures.length} close step(s) failed`);
  }

  #throwIfClosing(): void {
    if (this.#closing !== undefined) throw StreamingError.onShutdown('standalone is stopping');
  }
}
