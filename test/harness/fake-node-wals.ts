/**
 * The WAL bookkeeping of {@link FakeStreamingNode} (fake-streaming-node.ts), following the real
 * node's `(term, available)` rule (node/wal-manager): each pchannel has an *expected* state that
 * only moves forward, so a request for a state that is not newer fails IGNORED_OPERATION.
 */
import { type PChannelInfo, StreamingError, formatPChannelInfo } from '../../shared/index.js';
import type { WalStatus } from '../../coord/discovery/index.js';

interface WalState {
  readonly term: bigint;
  readonly available: boolean;
}

/** Same order as node/wal-manager `isStateBefore`: lower term, or same term open → closed. */
function isStateBefore(a: WalState, b: WalState): boolean {
  return a.term < b.term || (a.term === b.term && a.available && !b.available);
}

/** Time ticks a read-write WAL reports in CollectStatus. */
export interface FakeWalTicks {
  readonly mvccTimeTick: bigint;
  readonly recoveryTimeTick: bigint;
}

/** Open WALs of a fake node by pchannel name; see the file comment. */
export class FakeNodeWals {
  readonly #expected = new Map<string, WalState>();
  readonly #open = new Map<string, PChannelInfo>();
  readonly #ticks = new Map<string, FakeWalTicks>();

  /** Open channels by name (a copy). */
  open(): ReadonlyMap<string, PChannelInfo> {
    return new Map(this.#open);
  }

  setTicks(channel: string, ticks: FakeWalTicks): void {
    this.#ticks.set(channel, { ...ticks });
  }

  /** Opens `channel` at its term, replacing a lower one. @throws IGNORED_OPERATION when not newer. */
  assign(channel: PChannelInfo): void {
    this.#advance(channel, { term: channel.term, available: true }, 'open');
    this.#open.set(channel.name, channel);
  }

  /** Closes `channel` if open at a term ≤ its term. @throws IGNORED_OPERATION when stale. */
  remove(channel: PChannelInfo): void {
    this.#advance(channel, { term: channel.term, available: false }, 'remove');
    const open = this.#open.get(channel.name);
    if (open !== undefined && open.term <= channel.term) this.#open.delete(channel.name);
  }

  /** What CollectStatus reports: rw WALs with their ticks (default 0), ro WALs without. */
  statuses(): WalStatus[] {
    return [...this.#open.values()].map((channel) => {
      if (channel.accessMode === 'ro') return { channel };
      return { channel, ...(this.#ticks.get(channel.name) ?? { mvccTimeTick: 0n, recoveryTimeTick: 0n }) };
    });
  }

  #advance(channel: PChannelInfo, to: WalState, what: string): void {
    const expected = this.#expected.get(channel.name) ?? { term: -1n, available: false };
    if (!isStateBefore(expected, to)) {
      throw StreamingError.ignoredOperation(`channel ${formatPChannelInfo(channel)} with expired term, cannot ${what}`);
    }
    this.#expected.set(channel.name, to);
  }
}
