/**
 * A watch of the embedded store. Two modes, like etcd's synced/unsynced watchers:
 *
 * - **replaying**: the consumer is behind; batches come from the persisted history, read in
 *   chunks when the consumer asks for more (nothing is buffered ahead of it);
 * - **live**: caught up; the store offers each committed revision synchronously after the commit.
 *
 * A watch starts replaying at `fromRevision` (or live at "now"). When a live watch's queue
 * exceeds `queueLimit` (a slow consumer), the queue is dropped and the watch goes back to
 * replaying from the first batch the consumer has not taken: writers never wait for watchers, and
 * memory stays bounded. Only if the history no longer holds that revision (trimmed by the
 * retention limit or `compact`) does the watch end, with the terminal `compacted` notice: a watch
 * never skips a revision silently.
 */
import { hasPrefix } from './key-range.js';
import { toWatchEvent, type HistoryEvent } from './level-codec.js';
import type { HistoryRecord } from './level-reads.js';
import type { MetaWatch, WatchEvent } from './meta-kv.js';
import { WatchBase } from './watch-base.js';

/** What a watch needs from the store. */
export interface LevelWatchSource {
  /** The last committed revision whose events have been offered to live watches. */
  readonly currentRevision: number;
  /** The oldest revision still in the history (0: nothing compacted yet). */
  readonly compactRevision: number;
  /** History records in [from, to], ascending, at most `limit`; ON_SHUTDOWN once closed. */
  readHistory(from: number, to: number, limit: number): Promise<HistoryRecord[]>;
}

/** Revisions read from history per step of a replaying watch. */
const REPLAY_CHUNK = 256;
/** Revision 1 is the empty initial state; the first write is revision 2. */
const FIRST_WRITE = 2;

/** One watch of the embedded store (see the file comment for its two modes). */
export class LevelWatch extends WatchBase implements MetaWatch {
  readonly #source: LevelWatchSource;
  readonly #prefix: Buffer;
  readonly #queueLimit: number;
  /** The next revision not yet queued for (or replayed to) the consumer. */
  #nextRevision: number;
  #live = false;

  constructor(
    source: LevelWatchSource,
    prefix: string,
    fromRevision: number | undefined,
    queueLimit: number,
    signal: AbortSignal | undefined,
    onClosed: (w: LevelWatch) => void,
  ) {
    super(signal, () => onClosed(this));
    this.#source = source;
    this.#prefix = Buffer.from(prefix, 'utf8');
    this.#queueLimit = queueLimit;
    this.#nextRevision = fromRevision ?? source.currentRevision + 1;
    this.#live = this.#nextRevision > source.currentRevision;
    this.markReady();
  }

  /** Called by the store, synchronously after it committed `revision`. */
  offer(revision: number, events: readonly HistoryEvent[]): void {
    if (!this.#live || this.isClosing || revision < this.#nextRevision) return;
    const mine = this.#select(events);
    if (mine.length > 0) {
      if (this.queue.size >= this.#queueLimit) {
        this.#fallBehind();
        return;
      }
      this.queue.push({ kind: 'events', revision, events: mine });
    }
    this.#nextRevision = revision + 1;
  }

  protected override async onClosing(): Promise<void> {}

  /** Replays from history when the queue is empty and the watch is behind. */
  protected override async fill(): Promise<boolean> {
    if (this.#live || this.isClosing) return false;
    const target = this.#source.currentRevision;
    const expected = Math.max(this.#nextRevision, FIRST_WRITE);
    if (expected > target) {
      // No await between reading `target` and this: every later commit is offered to us.
      this.#live = true;
      return false;
    }
    const compacted = this.#source.compactRevision;
    if (expected < compacted) return this.#compacted(compacted);
    const records = await this.#source.readHistory(expected, Math.min(target, expected + REPLAY_CHUNK - 1), REPLAY_CHUNK);
    let want = expected;
    for (const record of records) {
      // A missing revision was trimmed while we read: report it rather than skip it.
      if (record.revision !== want) return this.#compacted(this.#source.compactRevision);
      const mine = this.#select(record.events);
      if (mine.length > 0) this.queue.push({ kind: 'events', revision: record.revision, events: mine });
      want = record.revision + 1;
    }
    if (records.length === 0) return this.#compacted(this.#source.compactRevision);
    this.#nextRevision = want;
    return true;
  }

  #select(events: readonly HistoryEvent[]): WatchEvent[] {
    return events.filter((e) => hasPrefix(Buffer.from(e.kv.key, 'utf8'), this.#prefix)).map(toWatchEvent);
  }

  /** Drops the live queue and resumes from the oldest batch the consumer has not taken. */
  #fallBehind(): void {
    const oldest = this.queue.peek();
    if (oldest !== undefined && oldest.kind === 'events') this.#nextRevision = oldest.revision;
    this.queue.clear();
    this.#live = false;
    this.queue.poke();
  }

  #compacted(compactRevision: number): boolean {
    this.queue.push({ kind: 'compacted', compactRevision });
    this.queue.end();
    return true;
  }
}
