/**
 * The process-wide root logger of the coordinator, node and CLI, built on pino. Components never
 * call this; they receive `root.child({ component, ... })` from the composition root.
 */
import { hostname } from 'node:os';
import { pino, type Logger as PinoInstance } from 'pino';
import { StreamingError } from '../errors/index.js';
import { LOG_LEVELS, type LogFields, type LogLevel, type Logger } from './logger.js';
import { stringifyBigints } from './stringify-bigints.js';

const LEVELS: readonly string[] = LOG_LEVELS;

/** Environment variable consulted when no explicit level is given. */
export const LOG_LEVEL_ENV = 'STREAMING_LOG_LEVEL';

/** Where log lines go: anything with a `write(line)` (a pino destination, or an array collector in tests). */
export interface LogDestination {
  write(line: string): void;
}

/** Options of {@link createRootLogger}. */
export interface RootLoggerOptions {
  /** Base field `service` of every line: `coord`, `node`, `standalone`, `walctl`... */
  readonly service: string;
  /** Base field `nodeId` (written as a string), when the process knows it up front. */
  readonly nodeId?: string | number | bigint;
  /** Explicit level, usually `config.log.level` (which `loadConfig` already merged with the env). */
  readonly level?: LogLevel;
  /** Default: stderr, synchronously, so stdout stays free for CLI output and ready lines. */
  readonly destination?: LogDestination;
  /** Looked up for {@link LOG_LEVEL_ENV} when `level` is not given. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The root logger: a {@link Logger} plus the process-level controls `main.ts` needs. */
export interface RootLogger extends Logger {
  /** Current level; assignable at run time. */
  level: string;
  isLevelEnabled(level: string): boolean;
  /** Flushes buffered output (call before exiting). */
  flush(cb?: (err?: Error) => void): void;
}

/**
 * Creates the pino root logger: JSON lines with an ISO `time`, a textual `level`, base fields
 * `{pid, hostname, service, nodeId?}`, and bigints written as decimal strings. The level is
 * `options.level`, else `STREAMING_LOG_LEVEL`, else `info`; an unknown level is an
 * INVAILD_ARGUMENT error.
 *
 * @example
 * ```ts
 * const root = createRootLogger({ service: 'node', level: config.log.level });
 * const log = root.child({ component: 'wal-manager' });
 * log.info({ channel, term: 3n }, 'channel assigned'); // {"term":"3",...}
 * ```
 */
export function createRootLogger(options: RootLoggerOptions): RootLogger {
  const level = resolveLevel(options);
  const base: Record<string, unknown> = { pid: process.pid, hostname: hostname(), service: options.service };
  if (options.nodeId !== undefined) base['nodeId'] = String(options.nodeId);
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  const root = pino(
    {
      level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // pino applies this to the base fields only (children reset it), hence PinoLogger.child.
        bindings: (bindings) => stringifyBigints(bindings),
        log: (fields) => stringifyBigints(fields),
      },
    },
    destination,
  );
  return new PinoLogger(root);
}

/**
 * Thin wrapper over a pino logger. It exists because pino's `child()` skips the bindings
 * formatter, so bigint bindings (terms!) would be written as bare numbers; converting them here
 * keeps every line consistent. The wrapper also keeps pino's wider API out of components.
 */
class PinoLogger implements RootLogger {
  readonly #pino: PinoInstance;

  constructor(instance: PinoInstance) {
    this.#pino = instance;
  }

  get level(): string {
    return this.#pino.level;
  }
  set level(level: string) {
    this.#pino.level = checkLevel(level, 'log level');
  }
  isLevelEnabled(level: string): boolean {
    return this.#pino.isLevelEnabled(level);
  }
  flush(cb?: (err?: Error) => void): void {
    this.#pino.flush(cb);
  }
  debug(fields: LogFields, msg?: string): void {
    this.#pino.debug(fields, msg);
  }
  info(fields: LogFields, msg?: string): void {
    this.#pino.info(fields, msg);
  }
  warn(fields: LogFields, msg?: string): void {
    this.#pino.warn(fields, msg);
  }
  error(fields: LogFields, msg?: string): void {
    this.#pino.error(fields, msg);
  }
  child(bindings: LogFields): Logger {
    return new PinoLogger(this.#pino.child(stringifyBigints(bindings)));
  }
}

function resolveLevel(options: RootLoggerOptions): LogLevel {
  if (options.level !== undefined) return checkLevel(options.level, 'log.level');
  const fromEnv = (options.env ?? process.env)[LOG_LEVEL_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return checkLevel(fromEnv.trim().toLowerCase(), LOG_LEVEL_ENV);
  return 'info';
}

function checkLevel(level: string, what: string): LogLevel {
  if (!LEVELS.includes(level)) {
    throw StreamingError.invalidArgument(what, `unknown log level ${JSON.stringify(level)}, expected one of ${LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}
