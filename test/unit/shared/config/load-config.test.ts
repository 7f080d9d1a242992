import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  configEnvVariables,
  DEFAULT_COORD_PORT,
  DEFAULT_ETCD_ROOT_PATH,
  DEFAULT_SESSION_TTL_MS,
  defaultConfig,
  loadConfig,
  type ConfigOverrides,
} from '../../../../shared/config/index.js';
import { StreamingError } from '../../../../shared/errors/index.js';

const dir = mkdtempSync(join(tmpdir(), 'load-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
function writeConfigFile(content: unknown): string {
  const file = join(dir, `config-${++fileCounter}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The error thrown by `fn`, asserted to be an INVAILD_ARGUMENT StreamingError. */
function invalid(fn: () => unknown): StreamingError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StreamingError);
    expect((e as StreamingError).isInvalidArgument()).toBe(true);
    return e as StreamingError;
  }
  throw new Error('expected an error');
}

describe('loadConfig', () => {
  it('returns the defaults when no source says otherwise', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual(defaultConfig());
    expect(config.etcd.rootPath).toBe(DEFAULT_ETCD_ROOT_PATH);
    expect(config.coord.port).toBe(DEFAULT_COORD_PORT);
    expect(config.session.ttlMs).toBe(DEFAULT_SESSION_TTL_MS);
  });

  it('applies defaults ← file ← env ← overrides, per key', () => {
    const file = writeConfigFile({
      node: { port: 1001, host: '0.0.0.0' },
      coord: { pchannelCount: 4 },
      wal: { retention: { maxBytes: 1024 } },
    });
    const env = { STREAMING_NODE_PORT: '1002', STREAMING_COORD_CLUSTER_NAME: 'from-env', STREAMING_LOG_LEVEL: 'debug' };
    const overrides: ConfigOverrides = { node: { port: 1003 }, log: { level: undefined } };
    const config = loadConfig({ file, env, overrides });
    expect(config.node.port).toBe(1003); // override beats env beats file
    expect(config.node.host).toBe('0.0.0.0'); // file only
    expect(config.coord.clusterName).toBe('from-env');
    expect(config.coord.pchannelCount).toBe(4);
    expect(config.log.level).toBe('debug'); // undefined override = not given
    expect(config.wal.retention.maxBytes).toBe(1024);
    expect(config.wal.retention.maxAgeMs).toBe(defaultConfig().wal.retention.maxAgeMs);
  });

  it('parses env values by the type of the key', () => {
    const config = loadConfig({
      env: {
        STREAMING_ETCD_ENDPOINTS: 'a:2379, b:2379,,',
        STREAMING_NODE_PORT: '0',
        STREAMING_WAL_SYNC_WRITES: 'false',
        STREAMING_WAL_COMPRESSION: 'yes',
        STREAMING_WAL_RETENTION_MAX_AGE_MS: '60000',
        STREAMING_METRICS_PORT: ' 0 ',
        STREAMING_UNRELATED_THING: 'ignored',
      },
    });
    expect(config.etcd.endpoints).toEqual(['a:2379', 'b:2379']);
    expect(config.node.port).toBe(0);
    expect(config.wal.syncWrites).toBe(false);
    expect(config.wal.compression).toBe(true);
    expect(defaultConfig().wal.compression).toBe(false);
    expect(config.wal.retention.maxAgeMs).toBe(60_000);
    expect(config.metrics.port).toBe(0);
  });

  it('parses string overrides (CLI flags) like env values', () => {
    const overrides = { node: { port: '0' }, wal: { syncWrites: 'no' } } as unknown as ConfigOverrides;
    const config = loadConfig({ env: {}, overrides });
    expect(config.node.port).toBe(0);
    expect(config.wal.syncWrites).toBe(false);
  });

  it('returns a deep-frozen result', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.wal.retention)).toBe(true);
    expect(Object.isFrozen(config.etcd.endpoints)).toBe(true);
    expect(() => {
      (config.node as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('scales session timings with a configured TTL unless they are set too', () => {
    const scaled = loadConfig({ env: { STREAMING_SESSION_TTL_MS: '2000' } });
    expect(scaled.session).toEqual({ ttlMs: 2000, keepaliveIntervalMs: 600, selfFenceMarginMs: 400 });
    const explicit = loadConfig({ env: { STREAMING_SESSION_TTL_MS: '4000' }, overrides: { session: { keepaliveIntervalMs: 500 } } });
    expect(explicit.session).toEqual({ ttlMs: 4000, keepaliveIntervalMs: 500, selfFenceMarginMs: 800 });
  });

  describe('errors name the exact key and its source', () => {
    it('TTL below the minimum', () => {
      const e = invalid(() => loadConfig({ env: { STREAMING_SESSION_TTL_MS: '1000' } }));
      expect(e.message).toBe('invalid session.ttlMs: must be >= 2000, got 1000 (from env STREAMING_SESSION_TTL_MS)');
    });

    it('negative and too large ports', () => {
      expect(invalid(() => loadConfig({ env: {}, overrides: { node: { port: -1 } } })).message).toMatch(
        /^invalid node\.port: must be >= 0, got -1 \(from override\)/,
      );
      const file = writeConfigFile({ metrics: { port: 70000 } });
      expect(invalid(() => loadConfig({ file, env: {} })).message).toContain(`invalid metrics.port: must be <= 65535, got 70000 (from file ${file})`);
    });

    it('wrong types in the file', () => {
      const file = writeConfigFile({ session: { ttlMs: '10s' } });
      expect(invalid(() => loadConfig({ file, env: {} })).message).toBe(
        `invalid session.ttlMs: expected a number, got string "10s" (from file ${file})`,
      );
      const listFile = writeConfigFile({ etcd: { endpoints: 'a:1' } });
      expect(invalid(() => loadConfig({ file: listFile, env: {} })).message).toMatch(/^invalid etcd\.endpoints: expected a list of strings/);
      const sliceFile = writeConfigFile({ wal: { retention: 5 } });
      expect(invalid(() => loadConfig({ file: sliceFile, env: {} })).message).toMatch(/^invalid wal\.retention: expected an object/);
    });

    it('unknown keys in the file', () => {
      const file = writeConfigFile({ coord: { prot: 1 } });
      expect(invalid(() => loadConfig({ file, env: {} })).message).toBe(`invalid coord.prot: unknown key (from file ${file})`);
      const top = writeConfigFile({ nodes: {} });
      expect(invalid(() => loadConfig({ file: top, env: {} })).message).toMatch(/^invalid nodes: unknown key/);
    });

    it('bad env text', () => {
      expect(invalid(() => loadConfig({ env: { STREAMING_NODE_PORT: 'abc' } })).message).toBe(
        'invalid node.port: expected a number, got "abc" (from env STREAMING_NODE_PORT)',
      );
      expect(invalid(() => loadConfig({ env: { STREAMING_WAL_SYNC_WRITES: 'maybe' } })).message).toMatch(/^invalid wal\.syncWrites/);
      expect(invalid(() => loadConfig({ env: { STREAMING_NODE_PORT: '' } })).message).toMatch(/^invalid node\.port/);
    });

    it('non-integer durations, unknown log level, bad cluster name', () => {
      expect(invalid(() => loadConfig({ env: {}, overrides: { wal: { timeTickIntervalMs: 1.5 } } })).message).toMatch(
        /^invalid wal\.timeTickIntervalMs: must be an integer/,
      );
      expect(invalid(() => loadConfig({ env: { STREAMING_LOG_LEVEL: 'loud' } })).message).toMatch(/^invalid log\.level: must be one of/);
      expect(invalid(() => loadConfig({ env: {}, overrides: { coord: { clusterName: 'a b' } } })).message).toMatch(/^invalid coord\.clusterName/);
    });

    it('inconsistent session timings', () => {
      expect(
        invalid(() => loadConfig({ env: {}, overrides: { session: { ttlMs: 3000, selfFenceMarginMs: 3000 } } })).message,
      ).toMatch(/^invalid session\.selfFenceMarginMs: must be below session\.ttlMs/);
      expect(
        invalid(() => loadConfig({ env: {}, overrides: { session: { ttlMs: 3000, keepaliveIntervalMs: 2500 } } })).message,
      ).toMatch(/^invalid session\.keepaliveIntervalMs: must be below session\.ttlMs - session\.selfFenceMarginMs \(2400\)/);
    });

    it('empty endpoint list and trailing slash in rootPath', () => {
      expect(invalid(() => loadConfig({ env: { STREAMING_ETCD_ENDPOINTS: ' , ' } })).message).toMatch(/^invalid etcd\.endpoints: must list/);
      expect(invalid(() => loadConfig({ env: { STREAMING_ETCD_ROOT_PATH: 'x/' } })).message).toMatch(/^invalid etcd\.rootPath/);
    });

    it('missing or malformed file', () => {
      expect(invalid(() => loadConfig({ file: join(dir, 'nope.json'), env: {} })).message).toMatch(/^invalid config file: cannot read/);
      const bad = writeConfigFile('{ not json');
      expect(invalid(() => loadConfig({ file: bad, env: {} })).message).toMatch(/is not valid JSON/);
      const arr = writeConfigFile([1, 2]);
      expect(invalid(() => loadConfig({ file: arr, env: {} })).message).toMatch(/^invalid config: expected an object/);
    });
  });
});

describe('configEnvVariables', () => {
  it('lists every key with its variable name', () => {
    const vars = configEnvVariables();
    expect(vars).toContainEqual({ path: 'session.ttlMs', env: 'STREAMING_SESSION_TTL_MS' });
    expect(vars).toContainEqual({ path: 'wal.retention.maxAgeMs', env: 'STREAMING_WAL_RETENTION_MAX_AGE_MS' });
    expect(vars).toContainEqual({ path: 'etcd.endpoints', env: 'STREAMING_ETCD_ENDPOINTS' });
    expect(new Set(vars.map((v) => v.env)).size).toBe(vars.length);
  });
});
