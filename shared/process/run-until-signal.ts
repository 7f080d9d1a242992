/**
 * The life of a server process (STYLE §5), shared by `walctl coord`, `walctl node` and
 * `walctl standalone`: start the service, print one JSON ready line on stdout, run until a stop
 * signal (or until the service stops on its own), close it, and answer the exit code.
 *
 * Exit codes: 0 after a clean stop on a signal (also when the signal interrupted the start);
 * 1 when the start failed, a close step threw, or the service stopped on its own. A second signal
 * while stopping exits at once with 1.
 */
import { StreamingError, asStreamingError } from '../errors/index.js';
import type { RootLogger } from '../log/index.js';

/** What {@link runUntilSignal} runs. */
export interface ProcessService<Info> {
  /** Starts serving; rejects with ON_SHUTDOWN when `close()` interrupted it. */
  start(): Promise<Info>;
  /** Stops everything; idempotent. */
  close(): Promise<void>;
  /** Resolves when the service stopped on its own (e.g. its session is gone for good). */
  closed?(): Promise<unknown>;
}

/** Where a server process prints its ready line and which signals stop it (tests override both). */
export interface ProcessIoOptions {
  /** Where the ready line goes; default stdout. */
  readonly stdout?: { write(text: string): unknown };
  /** Signals that stop the service; default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[];
}

/** Options of {@link runUntilSignal}. */
export interface RunUntilSignalOptions<Info> extends ProcessIoOptions {
  /** Used in log lines: `'streaming node'`, `'coordinator'`… */
  readonly name: string;
  readonly service: ProcessService<Info>;
  /** The ready line's fields besides `msg: 'ready'`. */
  readonly ready: (info: Info) => Readonly<Record<string, unknown>>;
  readonly logger: RootLogger;
  /** How a second signal ends the process; default `process.exit`. */
  readonly exit?: (code: number) => void;
}

/** The ready line: `{"msg":"ready",…fields}` and a newline. */
export function formatReadyLine(fields: Readonly<Record<string, unknown>>): string {
  return `${JSON.stringify({ msg: 'ready', ...fields })}\n`;
}

/** Runs `service` until a signal stops it (see the module comment); resolves with the exit code. */
export async function runUntilSignal<Info>(options: RunUntilSignalOptions<Info>): Promise<number> {
  const { name, service, logger, signals = ['SIGTERM', 'SIGINT'], stdout = process.stdout, exit = (code: number) => process.exit(code) } = options;
  let signalled: NodeJS.Signals | undefined;
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopRequested = new Promise<undefined>((resolve) => {
    onSignal = (signal) => {
      if (signalled !== undefined) {
        logger.error({ signal }, 'second signal while stopping; exiting now');
        logger.flush();
        exit(1);
        return;
      }
      signalled = signal;
      logger.info({ signal }, 'signal received; stopping');
      resolve(undefined);
    };
  });
  for (const s of signals) process.on(s, onSignal);
  let code = 0;
  try {
    const starting = service.start();
    // A signal may win the race; the start then fails with ON_SHUTDOWN, which nobody awaits.
    starting.catch(() => undefined);
    const info = await Promise.race([starting, stopRequested]);
    if (info !== undefined) {
      stdout.write(formatReadyLine(options.ready(info)));
      const stoppedByItself = service.closed?.().then(() => true) ?? new Promise<boolean>(() => undefined);
      if (await Promise.race([stopRequested.then(() => false), stoppedByItself])) {
        logger.error({}, `${name} stopped on its own`);
        code = 1;
      }
    }
  } catch (error) {
    // A start interrupted by a signal is a clean stop; anything else is a failure.
    if (signalled === undefined || !asStreamingError(error).isOnShutdown()) {
      logger.error({ err: describeError(error) }, `${name} failed to start`);
      code = 1;
    }
  }
  try {
    await service.close();
  } catch (error) {
    logger.error({ err: describeError(error) }, `${name} shutdown failed`);
    code = 1;
  }
  for (const s of signals) process.off(s, onSignal);
  logger.info({ code }, `${name} exiting`);
  logger.flush();
  return code;
}

/** One line for a log field, with the causes of an AggregateError. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError) return `${error.message}: ${error.errors.map(describeError).join('; ')}`;
  if (error instanceof StreamingError) return error.toString();
  return error instanceof Error ? error.message : String(error);
}
