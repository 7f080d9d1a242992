export { LOG_LEVELS, noopLogger } from './logger.js';
export type { LogFields, LogLevel, Logger } from './logger.js';
export { createRootLogger, LOG_LEVEL_ENV } from './create-root-logger.js';
export type { LogDestination, RootLogger, RootLoggerOptions } from './create-root-logger.js';
export { stringifyBigints } from './stringify-bigints.js';
