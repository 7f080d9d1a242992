/**
 * The embedded store's leases in memory: TTL, absolute expiry (wall-clock ms, persisted as is so
 * a lease keeps its deadline across a reopen) and the keys attached to each lease. Rebuilt from
 * the lease records and the data keys on open.
 */
import { NO_LEASE } from './meta-kv.js';
import type { HistoryEvent, StoredLease } from './level-codec.js';

interface LeaseEntry extends StoredLease {
  readonly keys: Set<string>;
}

/** Leases by id, with their deadlines and attached keys. */
export class LeaseTable {
  readonly #leases = new Map<string, LeaseEntry>();

  set(id: string, lease: StoredLease): void {
    const keys = this.#leases.get(id)?.keys ?? new Set<string>();
    this.#leases.set(id, { ttlMs: lease.ttlMs, expiresAt: lease.expiresAt, keys });
  }

  get(id: string): StoredLease | undefined {
    return this.#leases.get(id);
  }

  /** True when the lease exists and its deadline has not passed. */
  alive(id: string, now: number): boolean {
    const lease = this.#leases.get(id);
    return lease !== undefined && lease.expiresAt > now;
  }

  /** Keys attached to a lease, ascending. */
  keysOf(id: string): string[] {
    return [...(this.#leases.get(id)?.keys ?? [])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  delete(id: string): void {
    this.#leases.delete(id);
  }

  /** Attaches a key found on open; keys of unknown leases are ignored (they expire on open). */
  attach(key: string, lease: string): void {
    if (lease !== NO_LEASE) this.#leases.get(lease)?.keys.add(key);
  }

  /** Follows the lease changes a committed revision made. */
  apply(events: readonly HistoryEvent[]): void {
    for (const e of events) {
      if (e.prev !== undefined && e.prev.lease !== NO_LEASE) this.#leases.get(e.prev.lease)?.keys.delete(e.prev.key);
      if (e.type === 'put') this.attach(e.kv.key, e.kv.lease);
    }
  }

  /** Ids of leases whose deadline is at or before `now`. */
  expired(now: number): string[] {
    return [...this.#leases].filter(([, l]) => l.expiresAt <= now).map(([id]) => id);
  }

  /** Earliest deadline, if any lease exists. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const l of this.#leases.values()) if (next === undefined || l.expiresAt < next) next = l.expiresAt;
    return next;
  }
}
