/**
 * One epoch of a coordinator as the active one, from its election to its step-down: everything
 * it builds when elected and stops when it steps down (reference `milvus-coord.md` §2.6, §3.1).
 * Each epoch starts from the meta store alone; nothing is carried over from an earlier epoch in
 * the same process (its server id, and so its version `global`, is a new one too).
 *
 * Start, in order: catalog → TSO take-over (`PersistedTsoAllocator.start`: timestamps above
 * every earlier owner's) → `ChannelManager.recover` (version `{serverId, 0}`) → node registry
 * (first listing of node sessions) → `VChannelAllocator.recover` → balancer (first round at
 * once) → the service table. A failure or the leadership signal aborting stops what was built,
 * in reverse.
 *
 * Close, in reverse: discovery streams end (ON_SHUTDOWN) → balancer (aborts the round in flight;
 * its channels stay ASSIGNING for the next epoch to repair) → node registry → channel manager →
 * TSO. The catalog is stateless.
 */
import {
  StreamingCode,
  StreamingError,
  pchannelNames,
  raceAbort,
  throwIfAborted,
} from '../shared/index.js';
import type { Config, Logger, MetaKV } from '../shared/index.js';
import { Balancer, type BalancerOptions } from './balancer/index.js';
import { MetaCatalog } from './catalog/index.js';
import { ChannelManager } from './channel/index.js';
import { SessionNodeRegistry, type SessionNodeRegistryOptions } from './discovery/index.js';
import type { ActiveCoordinatorProvider, CoordinatorRoleProvider } from './service/index.js';
import { PersistedTsoAllocator, type PersistedTsoAllocatorOptions } from './tso/index.js';
import { VChannelAllocator } from './vchannel/index.js';
import { buildServiceTable, type ServiceTable } from './server-router.js';

/** Tuning of the components of an epoch (tests pass short timings; defaults are Milvus's). */
export interface ActiveEpochTuning {
  /** Balancer options besides what the epoch wires itself; `triggerIntervalMs` defaults to `coord.balanceIntervalMs`. */
  readonly balancer?: Omit<BalancerOptions, 'channels' | 'registry' | 'vchannelStats' | 'logger'>;
  readonly nodeRegistry?: Omit<SessionNodeRegistryOptions, 'kv' | 'rootPath' | 'logger'>;
  readonly tso?: Omit<PersistedTsoAllocatorOptions, 'kv' | 'rootPath' | 'logger' | 'ownerName'>;
}

/** What an epoch is built from. */
export interface ActiveEpochOptions {
  readonly kv: MetaKV;
  readonly config: Config;
  /** This epoch's server id: the `global` of every version it publishes. */
  readonly serverId: bigint;
  /** Aborts when the leadership ends (or the server closes): the start stops and unwinds. */
  readonly signal: AbortSignal;
  /** The gate of this epoch's handlers (active while the epoch serves). */
  readonly role: CoordinatorRoleProvider;
  readonly activeCoordinator: ActiveCoordinatorProvider;
  readonly tuning?: ActiveEpochTuning;
  readonly logger: Logger;
}

/** The running components of an epoch (read-only handles, for the server and tests). */
export interface ActiveEpochComponents {
  readonly serverId: bigint;
  readonly tso: PersistedTsoAllocator;
  readonly channels: ChannelManager;
  readonly registry: SessionNodeRegistry;
  readonly vchannels: VChannelAllocator;
  readonly balancer: Balancer;
  readonly table: ServiceTable;
}

type Step = { readonly name: string; readonly close: (reason?: Error) => Promise<void> | void };

/** An epoch as the active coordinator; see the module comment. Build it with {@link ActiveEpoch.start}. */
export class ActiveEpoch {
  readonly components: ActiveEpochComponents;
  readonly #steps: readonly Step[];
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  private constructor(components: ActiveEpochComponents, steps: readonly Step[], logger: Logger) {
    this.components = components;
    this.#steps = steps;
    this.#logger = logger;
  }

  /** Builds and starts every component; rejects (having stopped what was built) on failure or abort. */
  static async start(o: ActiveEpochOptions): Promise<ActiveEpoch> {
    const logger = o.logger.child({ epoch: o.serverId });
    const steps: Step[] = [];
    try {
      return await ActiveEpoch.#build(o, steps, logger);
    } catch (error) {
      await closeSteps(steps, error instanceof Error ? error : undefined, logger).catch(() => undefined);
      throw o.signal.aborted && !(error instanceof StreamingError) ? new StreamingError(StreamingCode.ON_SHUTDOWN, 'active epoch start aborted', { cause: error }) : error;
    }
  }

  static async #build(o: ActiveEpochOptions, steps: Step[], logger: Logger): Promise<ActiveEpoch> {
    const { kv, config, serverId, signal } = o;
    const rootPath = config.etcd.rootPath;
    const pchannels = pchannelNames(config.coord.clusterName, config.coord.pchannelCount);
    throwIfAborted(signal);
    const catalog = new MetaCatalog(kv, { rootPath, logger });

    const tso = new PersistedTsoAllocator({ ...o.tuning?.tso, kv, rootPath, ownerName: `streamingcoord-${serverId}`, logger });
    steps.push({ name: 'tso', close: (reason) => tso.close(reason) });
    await tso.start({ signal });

    const channels = await ChannelManager.recover(catalog, { serverId, pchannelNames: pchannels, logger, signal });
    steps.push({ name: 'channel manager', close: () => channels.close() });

    const registry = new SessionNodeRegistry({ ...o.tuning?.nodeRegistry, kv, rootPath, logger });
    steps.push({ name: 'node registry', close: (reason) => registry.close(reason) });
    await raceAbort(registry.start(), signal);

    // The allocator reports changes to the balancer built right after it (vchannelFair weighs them).
    let balancer: Balancer | undefined;
    const vchannels = await raceAbort(
      VChannelAllocator.recover({ catalog, tso, pchannels, onChange: () => balancer?.notify('vchannels'), logger }),
      signal,
    );
    const started = new Balancer({
      triggerIntervalMs: config.coord.balanceIntervalMs,
      ...o.tuning?.balancer,
      channels,
      registry,
      vchannelStats: vchannels.vchannelStats,
      logger,
    });
    balancer = started;
    steps.push({ name: 'balancer', close: (reason) => started.close(reason) });
    await started.start();
    throwIfAborted(signal);

    const table = buildServiceTable({ channels, registry, balancer: started, vchannels, tso, activeCoordinator: o.activeCoordinator, role: o.role, logger });
    steps.push({ name: 'services', close: (reason) => table.services.close(reason) });
    logger.info({ pchannels: pchannels.length, version: channels.version }, 'active coordinator epoch started');
    return new ActiveEpoch({ serverId, tso, channels, registry, vchannels, balancer: started, table }, steps, logger);
  }

  /** Ends every `AssignmentDiscover` stream (ON_SHUTDOWN, or `reason`); the first step of stopping. */
  endStreams(reason?: Error): Promise<void> {
    return this.components.table.services.close(reason);
  }

  /** Stops the epoch, components in reverse start order. Idempotent; rejects with an AggregateError of failed steps. */
  close(reason?: Error): Promise<void> {
    this.#closing ??= closeSteps(this.#steps, reason, this.#logger);
    return this.#closing;
  }
}

/** Closes `steps` last-first, every one even if an earlier failed; AggregateError of the failures. */
async function closeSteps(steps: readonly Step[], reason: Error | undefined, logger: Logger): Promise<void> {
  const errors: unknown[] = [];
  for (const step of [...steps].reverse()) {
    try {
      await step.close(reason);
    } catch (error) {
      logger.error({ step: step.name, err: error instanceof Error ? error.message : String(error) }, 'stopping a coordinator component failed');
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `active coordinator epoch: ${errors.length} component(s) failed to stop`);
}
