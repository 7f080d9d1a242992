/**
 * Helpers of the coordinator-server integration tests (`coord-server-*.test.ts`): a config for an
 * in-process `CoordinatorServer` on a real etcd (port 0, its own etcd client, short session TTL),
 * raw generated gRPC clients of its services, and catalog reads straight from etcd.
 *
 * Set `COORD_TEST_LOG=debug` to see the servers' logs on stderr.
 */
import * as grpc from '@grpc/grpc-js';
import { CoordinatorServer, type CoordinatorTuning } from '../../coord/index.js';
import { MetaCatalog, PChannelMetaState, type PChannelMeta } from '../../coord/catalog/index.js';
import { defaultBalancePolicyConfig } from '../../coord/balancer/index.js';
import { clientConstructors, createRootLogger, loadConfig, waitFor } from '../../shared/index.js';
import type {
  Config,
  LogLevel,
  MetaKV,
  StreamingCoordAssignmentServiceClient,
  TsoServiceClient,
  WalAdminServiceClient,
} from '../../shared/index.js';
import { Watcher, unary } from '../unit/coord/service/fixtures/services-fixture.js';

export { Watcher, unary };

/** Options of {@link coordTestConfig}. */
export interface CoordTestConfigOptions {
  readonly endpoint: string;
  readonly rootPath: string;
  readonly pchannels?: number;
  readonly ttlMs?: number;
}

/** A frozen config for an in-process coordinator: loopback, port 0, no environment. */
export function coordTestConfig(o: CoordTestConfigOptions): Config {
  return loadConfig({
    env: {},
    overrides: {
      etcd: { endpoints: [o.endpoint], rootPath: o.rootPath, requestTimeoutMs: 3_000 },
      coord: { host: '127.0.0.1', port: 0, pchannelCount: o.pchannels ?? 16, balanceIntervalMs: 600_000 },
      session: { ttlMs: o.ttlMs ?? 2_000 },
    },
  });
}

/** Test timings: quick retries, moves allowed at once (no 5-minute minimum between moves). */
export const TEST_TUNING: CoordinatorTuning = Object.freeze({
  balancer: {
    policyConfig: defaultBalancePolicyConfig({ minRebalanceIntervalMs: 0 }),
    backoff: { initialMs: 20, maxMs: 500, multiplier: 2, jitter: 0 },
    operationTimeoutMs: 30_000,
    collectStatusTimeoutMs: 5_000,
  },
  nodeRegistry: { callTimeoutMs: 30_000 },
  tso: { retryBackoff: { initialMs: 10, maxMs: 200 } },
  electionRetryBackoff: { initialMs: 20, maxMs: 300 },
  epochRetryBackoff: { initialMs: 20, maxMs: 300 },
  shutdownTimeoutMs: 2_000,
});

/** A coordinator server over `config` (not started), silent unless `COORD_TEST_LOG` is set. */
export function newCoordinator(config: Config, tuning: CoordinatorTuning = TEST_TUNING, name = 'coord'): CoordinatorServer {
  const level = process.env['COORD_TEST_LOG'] as LogLevel | undefined;
  const logger = level === undefined ? undefined : createRootLogger({ service: name, level });
  return new CoordinatorServer({ config, tuning, ...(logger === undefined ? {} : { logger }) });
}

/** Raw clients of one coordinator's services. */
export interface CoordClients {
  readonly assignment: StreamingCoordAssignmentServiceClient;
  readonly admin: WalAdminServiceClient;
  readonly tso: TsoServiceClient;
  /** Opens a recording AssignmentDiscover watcher (cancelled by close()). */
  watch(): Watcher;
  close(): void;
}

export function coordClients(address: string): CoordClients {
  const ctor = clientConstructors();
  const creds = grpc.credentials.createInsecure();
  const assignment = new ctor.streamingCoordAssignment(address, creds);
  const admin = new ctor.walAdmin(address, creds);
  const tso = new ctor.tso(address, creds);
  const watchers: Watcher[] = [];
  return {
    assignment,
    admin,
    tso,
    watch() {
      const w = new Watcher(assignment.AssignmentDiscover(), true);
      watchers.push(w);
      return w;
    },
    close() {
      for (const w of watchers) w.cancel();
      for (const c of [assignment, admin, tso]) c.close();
    },
  };
}

/** One TSO allocation through the TsoService. */
export async function allocateTimestamp(tso: TsoServiceClient, count = 1): Promise<bigint> {
  const res = await unary<{ timestamp: string }>((cb) => tso.AllocateTimestamps({ count }, cb));
  return BigInt(res.timestamp);
}

/** Every persisted pchannel meta under `rootPath`. */
export function listPChannels(kv: MetaKV, rootPath: string): Promise<PChannelMeta[]> {
  return new MetaCatalog(kv, { rootPath }).listPChannels();
}

/** Server id → names of the ASSIGNED pchannels on it, from persisted metas. */
export function assignedByNode(metas: readonly PChannelMeta[]): Map<bigint, string[]> {
  const out = new Map<bigint, string[]>();
  for (const m of metas) {
    if (m.state !== PChannelMetaState.ASSIGNED || m.node === undefined) continue;
    out.set(m.node.serverId, [...(out.get(m.node.serverId) ?? []), m.channel.name]);
  }
  return out;
}

/** Waits until all `count` pchannels are persisted ASSIGNED and `ok` holds for them; returns them. */
export async function waitForAssigned(
  kv: MetaKV,
  rootPath: string,
  count: number,
  ok: (metas: readonly PChannelMeta[]) => boolean,
  message: string,
  timeoutMs = 30_000,
): Promise<PChannelMeta[]> {
  return waitFor(
    async () => {
      const metas = await listPChannels(kv, rootPath);
      const assigned = metas.filter((m) => m.state === PChannelMetaState.ASSIGNED);
      return assigned.length === count && ok(metas) ? metas : undefined;
    },
    { timeoutMs, intervalMs: 50, message },
  );
}
