/**
 * An in-memory {@link Catalog} for unit tests: Map-backed, records every pchannel save, and injects
 * faults (fail the next N saves, fail the next list, hold a save until released). It passes the
 * same Catalog contract suite as the real MetaCatalog (test/conformance/catalog-contract.test.ts).
 */
import type { Catalog, PChannelMeta, VChannelMeta } from '../../../../coord/catalog/index.js';
import { Deferred, StreamingError, throwIfAborted } from '../../../../shared/index.js';

type SaveOptions = { signal?: AbortSignal };

/** Byte order of the names, as a prefix listing of the real store returns them. */
function sortedBy<T>(items: Iterable<T>, key: (t: T) => string): T[] {
  return [...items].sort((a, b) => Buffer.compare(Buffer.from(key(a)), Buffer.from(key(b))));
}

/** A save held by {@link FakeCatalog.holdNextSave}. */
export interface HeldSave {
  /** Resolves once the save has started (and is waiting). */
  readonly reached: Promise<void>;
  /** Lets the save finish (or fail with `error`). */
  release(error?: Error): void;
}

export class FakeCatalog implements Catalog {
  readonly pchannels = new Map<string, PChannelMeta>();
  readonly vchannels = new Map<string, VChannelMeta>();
  version: bigint | undefined;
  cchannel: string | undefined;
  /** Every successful `savePChannels` call, in order. */
  readonly pchannelSaves: PChannelMeta[][] = [];
  saveVersionCalls = 0;
  saveCChannelCalls = 0;

  #failSaves = 0;
  #failError: Error = StreamingError.unknown('injected save failure');
  #failList: Error | undefined;
  #held: { reached: Deferred<void>; gate: Deferred<Error | undefined> } | undefined;

  /** The next `n` `savePChannels` calls throw `error` and store nothing. */
  failNextSaves(n: number, error: Error = StreamingError.unknown('injected save failure')): void {
    this.#failSaves = n;
    this.#failError = error;
  }

  /** The next `listPChannels` throws `error`. */
  failNextList(error: Error = StreamingError.unrecoverable('corrupt pchannel meta')): void {
    this.#failList = error;
  }

  /** The next `savePChannels` waits (before storing) until released. */
  holdNextSave(): HeldSave {
    const held = { reached: new Deferred<void>(), gate: new Deferred<Error | undefined>() };
    this.#held = held;
    return { reached: held.reached.promise, release: (error?: Error) => held.gate.resolve(error) };
  }

  async listPChannels(): Promise<PChannelMeta[]> {
    const err = this.#failList;
    if (err !== undefined) {
      this.#failList = undefined;
      throw err;
    }
    return sortedBy(this.pchannels.values(), (m) => m.channel.name);
  }

  async savePChannels(metas: readonly PChannelMeta[], options: SaveOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      held.reached.resolve();
      const err = await held.gate.promise;
      if (err !== undefined) throw err;
    }
    if (this.#failSaves > 0) {
      this.#failSaves--;
      throw this.#failError;
    }
    for (const m of metas) this.pchannels.set(m.channel.name, m);
    this.pchannelSaves.push([...metas]);
  }

  async getVersion(): Promise<bigint | undefined> {
    return this.version;
  }

  async saveVersion(version: bigint, options: SaveOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    this.saveVersionCalls++;
    this.version = version;
  }

  async getCChannel(): Promise<string | undefined> {
    return this.cchannel;
  }

  async saveCChannel(pchannel: string, options: SaveOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    this.saveCChannelCalls++;
    this.cchannel = pchannel;
  }

  async listVChannels(): Promise<VChannelMeta[]> {
    return sortedBy(this.vchannels.values(), (m) => m.vchannel);
  }

  async saveVChannels(metas: readonly VChannelMeta[], options: SaveOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    for (const m of metas) this.vchannels.set(m.vchannel, m);
  }

  async removeVChannels(names: readonly string[], options: SaveOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    for (const n of names) this.vchannels.delete(n);
  }
}
