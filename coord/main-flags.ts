/**
 * The coordinator's command-line flags as config overrides, and the choice of meta store
 * (`main.ts` parses them with commander).
 */
import { etcdEndpointsConfigured, splitList } from '../shared/index.js';
import type { Config, ConfigOverrides } from '../shared/index.js';
import { type CoordMetaStoreSpec, embeddedCoordMetaDir } from './server-resources.js';

/** Flags as commander parses them: all text (loadConfig parses numbers and names the key in errors). */
export interface CoordFlags {
  readonly etcd?: string;
  readonly root?: string;
  readonly pchannels?: string;
  readonly cluster?: string;
  readonly host?: string;
  readonly port?: string;
  readonly advertise?: string;
  readonly config?: string;
  readonly sessionTtlMs?: string;
  readonly sessionTtl?: string;
  readonly balanceIntervalMs?: string;
  readonly dataDir?: string;
  readonly logLevel?: string;
}

/** Flags as config overrides (undefined = not given). */
export function coordOverrides(flags: CoordFlags): ConfigOverrides {
  // Number flags stay text: loadConfig parses override strings like environment values.
  const text = <T>(value: string | undefined): T | undefined => value as T | undefined;
  return {
    etcd: { endpoints: flags.etcd === undefined ? undefined : splitList(flags.etcd), rootPath: flags.root },
    coord: {
      host: flags.host,
      port: text<number>(flags.port),
      advertise: flags.advertise,
      pchannelCount: text<number>(flags.pchannels),
      clusterName: flags.cluster,
      balanceIntervalMs: text<number>(flags.balanceIntervalMs),
    },
    session: { ttlMs: text<number>(flags.sessionTtlMs ?? flags.sessionTtl) },
    standalone: { dataDir: flags.dataDir },
    log: { level: text<Config['log']['level']>(flags.logLevel) },
  };
}

/**
 * etcd when endpoints were configured by any source (flag, environment or file); otherwise the
 * embedded store under `<standalone.dataDir>/meta`. The config always has endpoints (a default),
 * so "configured" is decided from the sources, as `walctl node` does.
 */
export function coordMetaStoreFor(flags: CoordFlags, config: Config, env: NodeJS.ProcessEnv): CoordMetaStoreSpec {
  const configured = etcdEndpointsConfigured({ flag: flags.etcd, file: flags.config, env });
  return configured ? { kind: 'etcd' } : { kind: 'embedded', dir: embeddedCoordMetaDir(config) };
}
