/**
 * Semantic checks of a complete config (types are checked while merging). The first violation
 * throws INVAILD_ARGUMENT naming the key path, the rule, the value and (when known) its source.
 */
import { StreamingError } from '../errors/index.js';
import { LOG_LEVELS } from '../log/index.js';
import { MIN_SESSION_TTL_MS, type Config } from './config.js';

/** Where a key's value came from (`env STREAMING_NODE_PORT`, `file ./x.json`, ...), if known. */
export type ConfigSourceOf = (path: string) => string | undefined;

const MAX_PORT = 65_535;
/** Pchannel names are built from the cluster name, so keep it to name-safe characters. */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Validates `config`; `loadConfig` calls it once. Exported for code that assembles a config by
 * hand (tests, embedders) and wants the same guarantees.
 *
 * @example
 * ```ts
 * validateConfig({ ...defaultConfig(), node: { ...defaultConfig().node, port: 0 } });
 * ```
 */
export function validateConfig(config: Config, sourceOf: ConfigSourceOf = () => undefined): void {
  const check = new Checker(sourceOf);
  validateEtcd(check, config.etcd);
  validateSession(check, config.session);
  validateProcesses(check, config);
  validateWal(check, config.wal);
  if (!(LOG_LEVELS as readonly string[]).includes(config.log.level)) {
    check.fail('log.level', `must be one of ${LOG_LEVELS.join(', ')}`, config.log.level);
  }
}

function validateEtcd(check: Checker, etcd: Config['etcd']): void {
  if (etcd.endpoints.length === 0) check.fail('etcd.endpoints', 'must list at least one endpoint', etcd.endpoints);
  etcd.endpoints.forEach((e) => check.address('etcd.endpoints', e));
  check.nonEmpty('etcd.rootPath', etcd.rootPath);
  if (etcd.rootPath.endsWith('/')) check.fail('etcd.rootPath', 'must not end with "/"', etcd.rootPath);
  check.int('etcd.dialTimeoutMs', etcd.dialTimeoutMs, 1);
  check.int('etcd.requestTimeoutMs', etcd.requestTimeoutMs, 1);
}

function validateSession(check: Checker, session: Config['session']): void {
  check.int('session.ttlMs', session.ttlMs, MIN_SESSION_TTL_MS);
  check.int('session.keepaliveIntervalMs', session.keepaliveIntervalMs, 1);
  check.int('session.selfFenceMarginMs', session.selfFenceMarginMs, 0);
  if (session.selfFenceMarginMs >= session.ttlMs) {
    check.fail('session.selfFenceMarginMs', `must be below session.ttlMs (${session.ttlMs})`, session.selfFenceMarginMs);
  }
  // A keepalive must get a chance to succeed before the node would fence itself.
  const fenceAfterMs = session.ttlMs - session.selfFenceMarginMs;
  if (session.keepaliveIntervalMs >= fenceAfterMs) {
    check.fail(
      'session.keepaliveIntervalMs',
      `must be below session.ttlMs - session.selfFenceMarginMs (${fenceAfterMs})`,
      session.keepaliveIntervalMs,
    );
  }
}

/** Coordinator, node, metrics endpoint and standalone mode: addresses, ports, names, paths. */
function validateProcesses(check: Checker, { coord, node, metrics, standalone }: Config): void {
  check.nonEmpty('coord.host', coord.host);
  check.int('coord.port', coord.port, 0, MAX_PORT);
  check.noSpaces('coord.advertise', coord.advertise);
  check.int('coord.pchannelCount', coord.pchannelCount, 1);
  if (!CLUSTER_NAME.test(coord.clusterName)) {
    check.fail('coord.clusterName', 'must start with a letter or digit and contain only letters, digits, "_", "." and "-"', coord.clusterName);
  }
  check.int('coord.balanceIntervalMs', coord.balanceIntervalMs, 1);

  check.nonEmpty('node.host', node.host);
  check.int('node.port', node.port, 0, MAX_PORT);
  check.noSpaces('node.advertise', node.advertise);
  check.nonEmpty('node.dataRoot', node.dataRoot);

  check.nonEmpty('metrics.host', metrics.host);
  check.int('metrics.port', metrics.port, 0, MAX_PORT);
  check.nonEmpty('standalone.dataDir', standalone.dataDir);
}

function validateWal(check: Checker, wal: Config['wal']): void {
  check.int('wal.maxMessageBytes', wal.maxMessageBytes, 1);
  check.int('wal.retention.maxAgeMs', wal.retention.maxAgeMs, 0);
  check.int('wal.retention.maxBytes', wal.retention.maxBytes, 0);
  check.int('wal.timeTickIntervalMs', wal.timeTickIntervalMs, 1);
}

class Checker {
  readonly #sourceOf: ConfigSourceOf;

  constructor(sourceOf: ConfigSourceOf) {
    this.#sourceOf = sourceOf;
  }

  fail(path: string, rule: string, value: unknown): never {
    const source = this.#sourceOf(path);
    const from = source === undefined ? '' : ` (from ${source})`;
    throw StreamingError.invalidArgument(path, `${rule}, got ${JSON.stringify(value)}${from}`);
  }

  int(path: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (!Number.isSafeInteger(value)) this.fail(path, 'must be an integer', value);
    if (value < min) this.fail(path, `must be >= ${min}`, value);
    if (value > max) this.fail(path, `must be <= ${max}`, value);
  }

  nonEmpty(path: string, value: string): void {
    if (value.trim() === '') this.fail(path, 'must not be empty', value);
  }

  noSpaces(path: string, value: string): void {
    if (/\s/.test(value)) this.fail(path, 'must not contain whitespace', value);
  }

  address(path: string, value: string): void {
    if (value.trim() === '' || /\s/.test(value)) this.fail(path, 'entries must be non-empty host:port addresses', value);
  }
}
