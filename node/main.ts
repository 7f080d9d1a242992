/**
 * The streaming node as a process (STYLE §5): build the server from a loaded config, serve, print
 * one JSON ready line on stdout, and stop gracefully on SIGTERM / SIGINT. `walctl node` (cli/)
 * parses flags and loads the config, then calls {@link runNode}; its exit code is the process's.
 *
 * Exit codes: 0 after a clean stop on a signal; 1 if starting failed, a shutdown step threw, or
 * the node stopped on its own (session lost under the `exit` policy). A second signal while
 * stopping exits at once with 1.
 */
import {
  type Config,
  type RootLogger,
  StreamingError,
  asStreamingError,
  createRootLogger,
} from '../shared/index.js';
import { NodeServer, type NodeServerInfo, type NodeServerOptions } from './server.js';

/** Options of {@link runNode}. */
export interface RunNodeOptions extends Omit<NodeServerOptions, 'logger' | 'config'> {
  /** Loaded once (`loadConfig`) and frozen. */
  readonly config: Config;
  /** Default: pino to stderr at `config.log.level`, base fields `{service: 'streamingnode'}`. */
  readonly logger?: RootLogger;
  /** Where the ready line goes; default stdout. */
  readonly stdout?: { write(text: string): unknown };
  /** Signals that stop the node; default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[];
}

/** The ready line: `{"msg":"ready","role":"streamingnode","grpcPort":…,"serverId":…,"address":…}`. */
export function readyLine(info: NodeServerInfo): string {
  return `${JSON.stringify({ msg: 'ready', role: 'streamingnode', grpcPort: info.grpcPort, serverId: Number(info.serverId), address: info.address })}\n`;
}

/** Runs a node until a signal (or a fatal session loss) stops it; resolves with the exit code. */
export async function runNode(options: RunNodeOptions): Promise<number> {
  const { config, signals = ['SIGTERM', 'SIGINT'], stdout = process.stdout } = options;
  const logger = options.logger ?? createRootLogger({ service: 'streamingnode', level: config.log.level });
  const server = new NodeServer({ ...options, logger });
  let signalled: NodeJS.Signals | undefined;
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled !== undefined) {
        logger.error({ signal }, 'second signal while stopping; exiting now');
        logger.flush();
        process.exit(1);
      }
      signalled = signal;
      logger.info({ signal }, 'signal received; stopping');
      resolve();
    };
    for (const s of signals) process.on(s, onSignal);
    // Detach the handlers once the node has closed, whatever closed it.
    void server.closed().then(() => {
      for (const s of signals) process.off(s, onSignal);
    });
  });
  let code = 0;
  try {
    const starting = server.start();
    // A signal may win the race; the start then fails with ON_SHUTDOWN, which nobody awaits.
    starting.catch(() => undefined);
    const info = await Promise.race([starting, stopRequested.then(() => undefined)]);
    if (info !== undefined) {
      stdout.write(readyLine(info));
      // Stop on a signal, or when the node closed itself (session gone for good).
      const reason = await Promise.race([stopRequested.then(() => undefined), server.closed()]);
      if (signalled === undefined) {
        logger.error({ err: reason instanceof Error ? reason.message : undefined }, 'streaming node stopped on its own');
        code = 1;
      }
    }
  } catch (error) {
    // A start interrupted by a signal is a clean stop; anything else is a failure.
    if (signalled === undefined || !asStreamingError(error).isOnShutdown()) {
      logger.error({ err: describe(error) }, 'streaming node failed to start');
      code = 1;
    }
  }
  try {
    await server.close();
  } catch (error) {
    logger.error({ err: describe(error) }, 'streaming node shutdown failed');
    code = 1;
  }
  logger.info({ code }, 'streaming node exiting');
  logger.flush();
  return code;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError) return `${error.message}: ${error.errors.map(describe).join('; ')}`;
  if (error instanceof StreamingError) return error.toString();
  return error instanceof Error ? error.message : String(error);
}
