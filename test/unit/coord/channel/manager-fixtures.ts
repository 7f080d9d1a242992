/** Shared fixtures of the channel-manager tests. */
import { expect } from 'vitest';
import type { PChannelMeta } from '../../../../coord/catalog/index.js';
import {
  ChannelManager,
  type ExpectedAssignment,
  assignToServerDone,
  newPChannelMeta,
  tryAssignToServerId,
} from '../../../../coord/channel/index.js';
import { StreamingError, type StreamingCode } from '../../../../shared/index.js';
import { FakeCatalog } from './fake-catalog.js';

export const SERVER_ID = 7n;
export const NAMES = ['dml_0', 'dml_1', 'dml_2'];
export const A = { serverId: 1n, address: '10.0.0.1:22222' };
export const B = { serverId: 2n, address: '10.0.0.2:22222' };

/** A fake wall clock in ms. */
export function clock(startMs = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

export async function recover(catalog = new FakeCatalog(), names = NAMES, nowMs = clock().now): Promise<ChannelManager> {
  return ChannelManager.recover(catalog, { serverId: SERVER_ID, pchannelNames: names, nowMs });
}

export function expected(entries: [string, typeof A, ('rw' | 'ro')?][]): Map<string, ExpectedAssignment> {
  return new Map(entries.map(([name, node, mode]) => [name, { node, accessMode: mode ?? 'rw' }]));
}

export async function expectCode(p: Promise<unknown>, code: StreamingCode): Promise<void> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StreamingError);
  expect((err as StreamingError).code).toBe(code);
}

/** A meta ASSIGNED to `node` at `term` (every earlier attempt on the same node). */
export function assignedMeta(name: string, node: typeof A, term: bigint): PChannelMeta {
  let m = newPChannelMeta(name, 'rw');
  while (m.channel.term < term) m = tryAssignToServerId(m, 'rw', node).meta;
  return assignToServerDone(m, 100n).meta;
}
