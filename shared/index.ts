/**
 * The public surface of `shared/`: everything coord/, node/, client/ and cli/ may use.
 * Each line re-exports one folder's own index, so a folder's internals stay private.
 */
export * from './errors/index.js';
export * from './grpc/index.js';
export * from './proto/index.js';
export * from './message/index.js';
export * from './tso/index.js';
export * from './meta/index.js';
export * from './meta/session/index.js';
export * from './config/index.js';
export * from './log/index.js';
export * from './metrics/index.js';
export * from './util/index.js';
export * from './process/index.js';
