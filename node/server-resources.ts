/**
 * What the node server builds from config (DESIGN.md §2): its meta store, its timestamp source,
 * its WAL openers and the address it advertises. Kept apart from the composition root so each
 * choice is documented once.
 */
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import {
  type Config,
  LocalTsoAllocator,
  type Logger,
  type TsoAllocator,
  raceAbort,
} from '../shared/index.js';
import { levelBinding, LevelWalBackendOpener, type Wal, WalOpener, walAdaptorOptionsFrom } from './wal/index.js';
import type { WalOpener as ManagedWalOpener } from './wal-manager/index.js';
import { RemoteTsoAllocator } from './tso/index.js';

/**
 * Where the node keeps its session is a shared `MetaStoreSpec`: `etcd` (the normal case),
 * `embedded` (a node run alone; see {@link embeddedMetaDir}) or `injected` (standalone shares the
 * coordinator's store; the node does not close it).
 */
/** The embedded meta store's directory for a node run without etcd: `<node.dataRoot>/meta`, beside `<dataRoot>/wal/`. */
export function embeddedMetaDir(config: Config): string {
  return join(config.node.dataRoot, 'meta');
}

/** A timestamp source and whether the node owns (closes) it. */
export interface NodeTso {
  readonly tso: TsoAllocator;
  /** Closes it, when the node owns it. */
  close(): Promise<void>;
}

/**
 * The node's timestamp source:
 * - given `coordAddress` (from `--coord`, i.e. `config.coord.advertise`, the address nodes use
 *   to reach the coordinator): the coordinator's TSO through a batching {@link RemoteTsoAllocator}
 *   — what a cluster needs, since time ticks must be global;
 * - otherwise a {@link LocalTsoAllocator} on this process's clock, which is only correct while
 *   this node is the only writer of its pchannels (a node run alone, tests). Standalone mode
 *   injects the coordinator's allocator instead.
 */
export function createNodeTso(coordAddress: (() => string | undefined) | undefined, logger: Logger): NodeTso {
  if (coordAddress === undefined) return { tso: new LocalTsoAllocator(), close: () => Promise.resolve() };
  const remote = new RemoteTsoAllocator({ target: coordAddress, logger });
  return { tso: remote, close: () => remote.close() };
}

/**
 * `tso` as seen by the WALs of one WAL-manager generation: a wait for timestamps (the
 * coordinator being unreachable) ends with the abort reason once `signal` aborts, so closing
 * those WALs (shutdown, self-fence) is never stuck behind a TSO that cannot answer.
 */
export function abortableTso(tso: TsoAllocator, signal: AbortSignal): TsoAllocator {
  const allocate = (count = 1): Promise<bigint> =>
    tso instanceof RemoteTsoAllocator ? tso.allocate(count, { signal }) : raceAbort(tso.allocate(count), signal);
  const tryAllocate = tso.tryAllocate?.bind(tso);
  // The synchronous fast path never waits, so it has nothing to abort: after the abort it just
  // declines, and `allocate` then rejects with the reason.
  return tryAllocate === undefined ? { allocate } : { allocate, tryAllocate: (count) => (signal.aborted ? undefined : tryAllocate(count)) };
}

/** Context a WAL opener is built with: one opener per WAL-manager generation (session registration). */
export interface NodeWalContext {
  /** The server id of the registration the WALs belong to (time tick `sourceID`). */
  readonly nodeId: bigint;
  readonly tso: TsoAllocator;
  readonly logger: Logger;
}

/** Builds the node's WAL openers and owns what they share (the backend). */
export interface NodeWalProvider {
  opener(context: NodeWalContext): ManagedWalOpener<Wal>;
  /** Releases what the openers share; called after every WAL is closed. */
  close?(): Promise<void>;
}

/**
 * The production WALs: one LevelDB per pchannel under `<node.dataRoot>/wal/<pchannel>/`
 * (LevelWalBackendOpener, shared by every opener so directory locks and caches are per process),
 * wrapped by the WAL adaptor (interceptors, scanners) configured from `config.wal`.
 */
export function createDefaultWalProvider(config: Config, logger: Logger): NodeWalProvider {
  const binding = levelBinding();
  logger.info({ ...binding }, binding.crc32c === 'sse4.2' ? 'LevelDB built from source with SSE4.2 CRC32C' : 'LevelDB with software CRC32C (run `node scripts/build-leveldb.mjs` for the faster build)');
  const backendOpener = new LevelWalBackendOpener({
    dataRoot: config.node.dataRoot,
    sync: config.wal.syncWrites,
    compression: config.wal.compression,
    logger,
  });
  return {
    opener: ({ nodeId, tso, logger: log }) =>
      new WalOpener({ backendOpener, tso, nodeId, config: walAdaptorOptionsFrom(config.wal), logger: log }),
    close: () => backendOpener.close(),
  };
}

/**
 * The address the node publishes: `node.advertise` if set, else `node.host:<bound port>`; a
 * wildcard host (`0.0.0.0`, `::`) is replaced by this machine's first external IPv4 address
 * (loopback if it has none), since peers cannot dial a wildcard.
 */
export function advertisedAddress(node: Config['node'], boundPort: number): string {
  if (node.advertise !== '') return node.advertise;
  const wildcard = node.host === '0.0.0.0' || node.host === '::' || node.host === '[::]';
  const host = wildcard ? firstExternalIPv4() ?? '127.0.0.1' : node.host;
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${boundPort}`;
}

function firstExternalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
