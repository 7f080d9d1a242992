/**
 * Builds a balancer over the real ChannelManager (on the fake catalog) and a fake node registry,
 * with short timings, plus the assertions most balancer tests share.
 */
import { expect } from 'vitest';
import { Balancer, defaultBalancePolicyConfig, type BalancePolicyConfig, type BalancerOptions } from '../../../../../coord/balancer/index.js';
import { PChannelMetaState, type PChannelMeta } from '../../../../../coord/catalog/index.js';
import { ChannelManager } from '../../../../../coord/channel/index.js';
import { waitFor } from '../../../../../shared/index.js';
import { FakeCatalog } from '../../channel/fake-catalog.js';
import { FakeNodeRegistry } from './fake-node-registry.js';

/** A fake wall clock (ms) shared by the channel manager and the balancer. */
export class FakeClock {
  ms = 1_700_000_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Harness {
  readonly catalog: FakeCatalog;
  readonly channels: ChannelManager;
  readonly registry: FakeNodeRegistry;
  readonly clock: FakeClock;
  readonly balancer: Balancer;
  readonly names: readonly string[];
}

export interface HarnessOptions {
  /** Number of pchannels `dml_<i>` (default 4). */
  readonly channelCount?: number;
  /** Nodes present before start. */
  readonly nodes?: readonly number[];
  /** Policy settings; default: Milvus defaults but no minimum rebalance interval. */
  readonly policyConfig?: Partial<BalancePolicyConfig>;
  /** An existing catalog (coordinator restart). */
  readonly catalog?: FakeCatalog;
  readonly registry?: FakeNodeRegistry;
  readonly clock?: FakeClock;
  /** Extra balancer options. */
  readonly balancer?: Partial<BalancerOptions>;
  /** Skip `start()`. */
  readonly noStart?: boolean;
}

export function pchannelNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `dml_${i}`);
}

/** Recovers a channel manager and starts a balancer over it; close it with {@link closeHarness}. */
export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const catalog = o.catalog ?? new FakeCatalog();
  const clock = o.clock ?? new FakeClock();
  const registry = o.registry ?? new FakeNodeRegistry();
  const names = pchannelNames(o.channelCount ?? 4);
  if (o.nodes !== undefined && o.nodes.length > 0) registry.join(...o.nodes);
  const channels = await ChannelManager.recover(catalog, { serverId: 100n, pchannelNames: names, nowMs: clock.now });
  const balancer = new Balancer({
    channels,
    registry,
    policyConfig: defaultBalancePolicyConfig({ minRebalanceIntervalMs: 0, ...o.policyConfig }),
    // Rounds in tests come from triggers; the periodic timer stays out of the way.
    triggerIntervalMs: 3_600_000,
    backoff: { initialMs: 5, maxMs: 40, multiplier: 2, jitter: 0 },
    collectStatusTimeoutMs: 1_000,
    operationTimeoutMs: 5_000,
    nowMs: clock.now,
    ...o.balancer,
  });
  if (o.noStart !== true) await balancer.start();
  return { catalog, channels, registry, clock, balancer, names };
}

export async function closeHarness(h: Harness): Promise<void> {
  await h.balancer.close();
  h.channels.close();
}

/** Every meta, by name. */
export function metas(h: Harness): PChannelMeta[] {
  return h.channels.currentLayout().channels.slice();
}

/** True when every channel is ASSIGNED. */
export function allAssigned(h: Harness): boolean {
  return metas(h).every((m) => m.state === PChannelMetaState.ASSIGNED);
}

/** Channel count per server id (ASSIGNED only), ascending ids. */
export function spread(h: Harness): [bigint, number][] {
  return h.channels.currentAssignments().nodes.map((n) => [n.node.serverId, n.channels.length]);
}

/** Waits until `ok(h)` holds (polling; default 5 s). */
export async function until(h: Harness, ok: (h: Harness) => boolean, message: string, timeoutMs = 5_000): Promise<void> {
  await waitFor(() => ok(h), { timeoutMs, intervalMs: 5, message });
}

/**
 * Waits until every channel is ASSIGNED and the loop is idle (a round that started afterwards has
 * finished), so faults injected next cannot be consumed by a pass still running.
 */
export async function placed(h: Harness): Promise<void> {
  await until(h, allAssigned, 'every channel assigned');
  const outcome = await h.balancer.triggerBalance();
  expect(outcome).toMatchObject({ ok: true, changed: 0 });
}

/**
 * Checks that the nodes hold exactly what the coordinator says: every ASSIGNED channel is open on
 * its node at its term and nowhere else.
 */
export function expectNodesMatchMeta(h: Harness): void {
  const open = h.registry.openWals();
  for (const m of metas(h)) {
    if (m.state !== PChannelMetaState.ASSIGNED) continue;
    expect(open.get(m.channel.name), m.channel.name).toEqual([{ serverId: m.node?.serverId, term: m.channel.term }]);
  }
}
