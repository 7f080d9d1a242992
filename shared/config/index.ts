export * from './config.js';
export { CONFIG_ENV_PREFIX, configEnvName } from './config-env.js';
export { loadConfig, configEnvVariables } from './load-config.js';
export type { LoadConfigOptions } from './load-config.js';
export { validateConfig } from './validate-config.js';
export type { ConfigSourceOf } from './validate-config.js';
export { etcdEndpointsConfigured, splitList } from './config-sources.js';
