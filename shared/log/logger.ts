/**
 * The logging interface every component takes. It is the subset of pino's API we use, so a pino
 * logger satisfies it as is, and library users can inject anything with these four methods
 * (STYLE §7; grpc-js `setLogger`, kafkajs `logCreator`).
 */

/** Every level name, least severe first; `silent` turns logging off. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** A level name, as in config `log.level` and `STREAMING_LOG_LEVEL`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields of one log line (`{ channel, term }`); bigints are written as strings. */
export type LogFields = object;

/**
 * Minimal structured logger: fields first, then the message.
 *
 * @example
 * ```ts
 * const log = logger.child({ component: 'produce-server', channel });
 * log.warn({ err, term }, 'append failed');
 * ```
 */
export interface Logger {
  debug(fields: LogFields, msg?: string): void;
  info(fields: LogFields, msg?: string): void;
  warn(fields: LogFields, msg?: string): void;
  error(fields: LogFields, msg?: string): void;
  /** A logger that adds `bindings` to every line it writes. */
  child(bindings: LogFields): Logger;
}

const noop = (): void => undefined;

/** Discards everything; the default of libraries (the client SDK) so they stay silent. */
export const noopLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: (): Logger => noopLogger,
});
