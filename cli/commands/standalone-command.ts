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
import { CoordinatorServer } from '../../coord/index.js';
import { NodeServer, type NodeServiceFactory } from '../../node/index.js';
import { LevelMetaKV, createRootLogger, loadConfig, type ConfigOverrides } from '../../shared/index.js';

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
  const dataDir = flags.data ?? 'data';
  let config;
  try {
    config = loadConfig({ ...(flags.config === undefined ? {} : { file: flags.config }), overrides: overrides(flags, dataDir) });
  } catch (error) {
    process.stderr.write(`walctl standalone: ${(error as Error).message}\n`);
    return 2;
  }
  const logger = createRootLogger({ service: 'standalone', level: config.log.level });
  mkdirSync(join(dataDir, 'meta'), { recursive: true });
  const kv = await LevelMetaKV.open(join(dataDir, 'meta'));
  const coord = new CoordinatorServer({ config, metaStore: { kind: 'injected', kv }, logger: logger.child({ role: 'coord' }) });
  let node: NodeServer | undefined;
  let code = 0;
  const stop = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    const coordInfo = await coord.start();
    node = new NodeServer({
      config,
      metaStore: { kind: 'injected', kv },
      coordAddress: () => coordInfo.address,
      services,
      logger: logger.child({ role: 'node' }),
    });
    const nodeInfo = await node.start();
    process.stdout.write(
      `${JSON.stringify({ msg: 'ready', role: 'standalone', grpcPort: coordInfo.grpcPort, nodeGrpcPort: nodeInfo.grpcPort, coordAddress: coordInfo.address, nodeAddress: nodeInfo.address, nodeServerId: Number(nodeInfo.serverId), dataDir })}\n`,
    );
    const signal = await stop;
    logger.info({ signal }, 'signal received; stopping');
  } catch (error) {
    logger.error({ err: (error as Error).message }, 'standalone failed');
    code = 1;
  }
  const steps = await Promise.allSettled([node?.close() ?? Promise.resolve()]);
  const coordStep = await Promise.allSettled([coord.close()]);
  const kvStep = await Promise.allSettled([kv.close()]);
  for (const r of [...steps, ...coordStep, ...kvStep]) {
    if (r.status === 'rejected') {
      logger.error({ err: (r.reason as Error).message }, 'shutdown step failed');
      code = 1;
    }
  }
  logger.flush();
  return code;
}
