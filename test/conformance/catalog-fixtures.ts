/**
 * Sample catalog records for the conformance suite: every state, histories, and 64-bit values
 * beyond 2^53 so a lossy number conversion anywhere shows up.
 */
import { pchannelInfo } from '../../shared/message/index.js';
import { PChannelMetaState, type PChannelMeta, type VChannelMeta } from '../../coord/catalog/index.js';

/** Larger than Number.MAX_SAFE_INTEGER, and not representable as a double. */
export const BIG = (1n << 60n) + 7n;
/** Largest int64. */
export const INT64_MAX = (1n << 63n) - 1n;
/** Largest uint64 (timestamps are uint64 on the wire). */
export const UINT64_MAX = (1n << 64n) - 1n;

/** A pchannel meta in a given state; `seed` varies every number. */
export function samplePChannel(name: string, state: PChannelMetaState, seed = 0n): PChannelMeta {
  const assigned = state !== PChannelMetaState.UNINITIALIZED;
  return {
    channel: pchannelInfo(name, assigned ? BIG + seed : 1n, seed % 2n === 0n ? 'rw' : 'ro'),
    node: assigned ? { serverId: BIG * 3n + seed, address: `10.0.0.${Number(seed % 250n)}:22222` } : undefined,
    state,
    histories:
      state === PChannelMetaState.ASSIGNING || state === PChannelMetaState.UNAVAILABLE
        ? [
            { term: BIG + seed - 2n, node: { serverId: INT64_MAX - seed, address: 'old-a:1' }, accessMode: 'rw' },
            { term: BIG + seed - 1n, node: { serverId: 2n, address: 'old-b:2' }, accessMode: 'ro' },
          ]
        : [],
    lastAssignTimestampSeconds: state === PChannelMetaState.ASSIGNED ? UINT64_MAX - seed : 0n,
  };
}

/** One pchannel in each state the state machine uses. */
export function pchannelsInEveryState(prefix: string): PChannelMeta[] {
  return [
    samplePChannel(`${prefix}-dml_0`, PChannelMetaState.UNINITIALIZED, 1n),
    samplePChannel(`${prefix}-dml_1`, PChannelMetaState.ASSIGNING, 2n),
    samplePChannel(`${prefix}-dml_2`, PChannelMetaState.ASSIGNED, 3n),
    samplePChannel(`${prefix}-dml_3`, PChannelMetaState.UNAVAILABLE, 4n),
  ];
}

/** A vchannel meta; dropped ones carry a drop timestamp. */
export function sampleVChannel(pchannel: string, collectionId: bigint, idx: number, dropped = false): VChannelMeta {
  return {
    vchannel: `${pchannel}_${collectionId}v${idx}`,
    pchannel,
    collectionId,
    state: dropped ? 'dropped' : 'normal',
    createTimestamp: (1_700_000_000_000n << 18n) + BigInt(idx),
    dropTimestamp: dropped ? UINT64_MAX - BigInt(idx) : 0n,
  };
}

/** `n` pchannel names `<prefix>-dml_<i>`. */
export function names(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-dml_${i}`);
}

/** Sorts by name the way a prefix listing returns them (byte order of the keys). */
export function byName<T>(items: readonly T[], nameOf: (item: T) => string): T[] {
  return [...items].sort((a, b) => Buffer.compare(Buffer.from(nameOf(a)), Buffer.from(nameOf(b))));
}
