/**
 * An in-memory streaming node's `StreamingNodeManagerService` for balancer tests: keeps the WALs it
 * has open (name → term), records every call in a log shared by all fake nodes (so tests can check
 * the order across nodes), and is scriptable: fail the next N calls of an op with a given error,
 * hang the next call until released (honouring the abort signal), report a recovery lag.
 */
import type { NodeCallOptions, StreamingNodeManagerClient, WalStatus } from '../../../../../coord/discovery/index.js';
import { Deferred, StreamingError, abortReason, composeTs } from '../../../../../shared/index.js';
import type { PChannelInfo } from '../../../../../shared/index.js';

export type NodeOp = 'assign' | 'remove' | 'collectStatus';

/** One recorded call. `channel`/`term` are empty/0 for collectStatus. */
export interface NodeCall {
  readonly op: NodeOp;
  readonly serverId: bigint;
  readonly channel: string;
  readonly term: bigint;
  /** How the call ended: set once it settles. */
  outcome?: 'ok' | 'failed' | 'aborted';
}

/** A call held by {@link FakeNodeClient.hangNext}. */
export interface HeldCall {
  /** Resolves once the call arrived and is waiting. */
  readonly reached: Promise<void>;
  /** Lets the call proceed normally, or fail with `error`. */
  release(error?: Error): void;
}

interface Hang {
  readonly reached: Deferred<void>;
  readonly gate: Deferred<Error | undefined>;
}

export class FakeNodeClient implements StreamingNodeManagerClient {
  readonly serverId: bigint;
  readonly address: string;
  /** WALs open on this node: name → term. */
  readonly open = new Map<string, bigint>();
  readonly #log: NodeCall[];
  readonly #failures = new Map<NodeOp, { remaining: number; error: Error }>();
  readonly #hangs = new Map<NodeOp, Hang>();
  #lagMs = 0;

  constructor(serverId: bigint, address: string, log: NodeCall[]) {
    this.serverId = serverId;
    this.address = address;
    this.#log = log;
  }

  /** The next `n` calls of `op` fail with `error` (and change nothing). */
  failNext(op: NodeOp, n: number, error: Error = StreamingError.unknown(`injected ${op} failure`)): void {
    this.#failures.set(op, { remaining: n, error });
  }

  /** The next call of `op` waits until released or aborted. */
  hangNext(op: NodeOp): HeldCall {
    const hang: Hang = { reached: new Deferred<void>(), gate: new Deferred<Error | undefined>() };
    this.#hangs.set(op, hang);
    return { reached: hang.reached.promise, release: (error?: Error) => hang.gate.resolve(error) };
  }

  /** Recovery lag reported for every WAL open here (0 = caught up). */
  setRecoveryLagMs(ms: number): void {
    this.#lagMs = ms;
  }

  async assign(channel: PChannelInfo, options?: NodeCallOptions): Promise<void> {
    await this.#call('assign', channel, options, () => {
      const current = this.open.get(channel.name);
      if (current !== undefined && current > channel.term) throw StreamingError.ignoredOperation(`assign ${channel.name}@${channel.term}: holds ${current}`);
      this.open.set(channel.name, channel.term);
    });
  }

  async remove(channel: PChannelInfo, options?: NodeCallOptions): Promise<void> {
    await this.#call('remove', channel, options, () => {
      const current = this.open.get(channel.name);
      // Like the node's wal manager: a Remove older than what it holds is ignored.
      if (current !== undefined && current > channel.term) throw StreamingError.ignoredOperation(`remove ${channel.name}@${channel.term}: holds ${current}`);
      this.open.delete(channel.name);
    });
  }

  async collectStatus(options?: NodeCallOptions): Promise<WalStatus[]> {
    return this.#call('collectStatus', undefined, options, () =>
      [...this.open].map(([name, term]) => ({
        channel: { name, term, accessMode: 'rw' as const },
        mvccTimeTick: composeTs(1_000_000 + this.#lagMs, 0),
        recoveryTimeTick: composeTs(1_000_000, 0),
      })),
    );
  }

  async #call<T>(op: NodeOp, channel: PChannelInfo | undefined, options: NodeCallOptions | undefined, effect: () => T): Promise<T> {
    const entry: NodeCall = { op, serverId: this.serverId, channel: channel?.name ?? '', term: channel?.term ?? 0n };
    this.#log.push(entry);
    const signal = options?.signal;
    try {
      const hang = this.#hangs.get(op);
      if (hang !== undefined) {
        this.#hangs.delete(op);
        hang.reached.resolve();
        const error = await abortable(hang.gate.promise, signal);
        if (error !== undefined) throw error;
      }
      if (signal?.aborted) throw abortReason(signal);
      const failure = this.#failures.get(op);
      if (failure !== undefined && failure.remaining > 0) {
        failure.remaining--;
        throw failure.error;
      }
      const result = effect();
      entry.outcome = 'ok';
      return result;
    } catch (err) {
      entry.outcome = signal?.aborted ? 'aborted' : 'failed';
      throw err;
    }
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
