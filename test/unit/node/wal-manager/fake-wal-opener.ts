/**
 * An in-memory {@link WalOpener} for the WAL manager tests: opens and closes can be held, failed
 * and observed, and the fake checks the one invariant that matters most — a pchannel never has
 * two WALs open (or opening) at once.
 */
import type { ManagedWal, WalOpener, WalOpenOptions } from '../../../../node/wal-manager/index.js';
import { type PChannelInfo, pchannelInfo } from '../../../../shared/message/index.js';
import { Deferred, raceAbort } from '../../../../shared/util/index.js';

/** `name@term`, the key the fake uses for failures, holds and its event log. */
export function keyOf(channel: PChannelInfo): string {
  return `${channel.name}@${channel.term}`;
}

/** A channel at a term, read-write. */
export function ch(name: string, term: number | bigint): PChannelInfo {
  return pchannelInfo(name, BigInt(term));
}

/** An open or close the test holds until it calls `release()` / `fail()`. */
export interface HeldOperation {
  readonly kind: 'open' | 'close';
  readonly key: string;
  release(): void;
  fail(error: Error): void;
}

/** A WAL that only records what happens to it. */
export class FakeWal implements ManagedWal {
  readonly channel: PChannelInfo;
  #fenced = false;
  closing = false;
  closed = false;
  closeCalls = 0;
  readonly #opener: FakeWalOpener;

  constructor(opener: FakeWalOpener, channel: PChannelInfo) {
    this.#opener = opener;
    this.channel = channel;
  }

  isAvailable(): boolean {
    return !this.#fenced && !this.closing && !this.closed;
  }

  /** Turns unavailable on its own, as a WAL fenced by a newer owner does. */
  fence(): void {
    this.#fenced = true;
  }

  close(): Promise<void> {
    this.closeCalls++;
    return this.#opener.closeWal(this);
  }
}

/** The fake opener; see the file comment. */
export class FakeWalOpener implements WalOpener<FakeWal> {
  /** Every step in order: `open k`, `opened k`, `open-failed k`, `close k`, `closed k`. */
  readonly events: string[] = [];
  /** Broken invariants (two WALs of a pchannel at once, double close); must stay empty. */
  readonly violations: string[] = [];
  /** Every WAL ever opened, oldest first. */
  readonly wals: FakeWal[] = [];
  /** Opens (by key) that fail with the given error. */
  readonly openFailures = new Map<string, Error>();
  /** Closes (by key) that fail with the given error (the WAL still counts as closed). */
  readonly closeFailures = new Map<string, Error>();
  /** Operations waiting for the test. */
  readonly held: HeldOperation[] = [];
  /** Hold every open / close until the test releases it. */
  holdOpens = false;
  holdCloses = false;
  /** When true a held open does not react to its abort signal (a badly behaved opener). */
  ignoreSignal = false;
  /** Signals the manager passed to `open`, by key. */
  readonly signals = new Map<string, AbortSignal>();
  /** If set, every open and close first awaits it (fast-check scheduler hook). */
  delay: ((label: string) => Promise<void>) | undefined;
  readonly #opening = new Set<string>();

  async open(channel: PChannelInfo, options: WalOpenOptions): Promise<FakeWal> {
    const key = keyOf(channel);
    this.events.push(`open ${key}`);
    this.signals.set(key, options.signal);
    const busy = this.live(channel.name).map((w) => keyOf(w.channel));
    if (busy.length > 0 || this.#opening.has(channel.name)) {
      this.violations.push(`open ${key} while ${[...busy, ...this.#opening].join(',')} open or opening`);
    }
    this.#opening.add(channel.name);
    try {
      await this.#pause('open', key, this.holdOpens, options.signal);
      const failure = this.openFailures.get(key);
      if (failure) throw failure;
      const wal = new FakeWal(this, channel);
      this.wals.push(wal);
      this.events.push(`opened ${key}`);
      return wal;
    } catch (error) {
      this.events.push(`open-failed ${key}`);
      throw error;
    } finally {
      this.#opening.delete(channel.name);
    }
  }

  /** Called by {@link FakeWal.close}. */
  async closeWal(wal: FakeWal): Promise<void> {
    const key = keyOf(wal.channel);
    if (wal.closing || wal.closed) this.violations.push(`close ${key} twice`);
    wal.closing = true;
    this.events.push(`close ${key}`);
    try {
      await this.#pause('close', key, this.holdCloses, undefined);
      const failure = this.closeFailures.get(key);
      if (failure) throw failure;
    } finally {
      wal.closed = true;
      this.events.push(`closed ${key}`);
    }
  }

  /** WALs of `name` not closed yet (closing ones included). */
  live(name: string): FakeWal[] {
    return this.wals.filter((w) => w.channel.name === name && !w.closed);
  }

  /** The held operation of that kind and key, if any (poll it with `waitFor`). */
  heldOp(kind: 'open' | 'close', key: string): HeldOperation | undefined {
    return this.held.find((h) => h.kind === kind && h.key === key);
  }

  async #pause(kind: 'open' | 'close', key: string, hold: boolean, signal: AbortSignal | undefined): Promise<void> {
    if (this.delay) await this.delay(`${kind} ${key}`);
    if (!hold) return;
    const gate = new Deferred<void>();
    const op: HeldOperation = { kind, key, release: () => gate.resolve(), fail: (e) => gate.reject(e) };
    this.held.push(op);
    try {
      await (this.ignoreSignal ? gate.promise : raceAbort(gate.promise, signal));
    } finally {
      this.held.splice(this.held.indexOf(op), 1);
    }
  }
}
