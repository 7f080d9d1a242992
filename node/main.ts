/**
 * The streaming node as a process (STYLE §5): build the server from a loaded config, serve, print
 * one JSON ready line on stdout, and stop gracefully on SIGTERM / SIGINT. `walctl node` (cli/)
 * parses flags and loads the config, then calls {@link runNode}; its exit code is the process's.
 *
 * Exit codes: 0 after a clean stop on a signal; 1 if starting failed, a shutdown step threw, or
 * the node stopped on its own (session lost under the `exit` policy). A second signal while
 * stopping exits at once with 1.
 */
import { type Config, type ProcessIoOptions, type RootLogger, createRootLogger, runUntilSignal } from '../shared/index.js';
import { NodeServer, type NodeServerInfo, type NodeServerOptions } from './server.js';

/** Options of {@link runNode}. */
export interface RunNodeOptions extends Omit<NodeServerOptions, 'logger' | 'config'>, ProcessIoOptions {
  /** Loaded once (`loadConfig`) and frozen. */
  readonly config: Config;
  /** Default: pino to stderr at `config.log.level`, base fields `{service: 'streamingnode'}`. */
  readonly logger?: RootLogger;
}

/** The ready line's fields: `{"msg":"ready","role":"streamingnode","grpcPort":…,"serverId":…,"address":…}`. */
export function nodeReadyFields(info: NodeServerInfo): Record<string, unknown> {
  return { role: 'streamingnode', grpcPort: info.grpcPort, serverId: Number(info.serverId), address: info.address };
}

/** Runs a node until a signal (or a fatal session loss) stops it; resolves with the exit code. */
export function runNode(options: RunNodeOptions): Promise<number> {
  const { config } = options;
  const logger = options.logger ?? createRootLogger({ service: 'streamingnode', level: config.log.level });
  const server = new NodeServer({ ...options, logger });
  return runUntilSignal({
    name: 'streaming node',
    service: server,
    ready: nodeReadyFields,
    logger,
    stdout: options.stdout,
    signals: options.signals,
  });
}
