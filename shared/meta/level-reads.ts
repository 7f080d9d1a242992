/**
 * Reads of the embedded store that need no lock: ranges (at the latest or an older revision) and
 * history. A range reads everything from one LevelDB snapshot, revision counter included (it is
 * written in the same batch as the data), so keys and revision always agree.
 *
 * A range at an older revision R starts from the latest state and undoes the revisions after R:
 * every history event keeps the key's state before it, and the first event after R on a key
 * carries exactly the key's state at R.
 */
import type { Level } from 'level';
import { isUnbounded, prefixEnd, rangeStart } from './key-range.js';
import { futureRevision, revisionCompacted } from './meta-errors.js';
import {
  DATA_END,
  META_COMPACT,
  META_REVISION,
  dataKey,
  decodeHistory,
  decodeKv,
  historyKey,
  keyOfDataKey,
  readU64,
  revisionOfHistoryKey,
  type HistoryEvent,
} from './level-codec.js';
import type { KeyValue, RangeOptions, RangeResult } from './meta-kv.js';

/** The LevelDB of the embedded store (Buffer keys and values). */
export type MetaDb = Level<Buffer, Buffer>;
/** An explicit LevelDB snapshot (typed through `level`, whose `abstract-level` is not ours). */
type AbstractSnapshot = ReturnType<MetaDb['snapshot']>;

/** The events of one revision. */
export interface HistoryRecord {
  readonly revision: number;
  readonly events: HistoryEvent[];
}

/** History records with `from <= revision <= to`, ascending, at most `limit`. */
export async function readHistory(
  db: MetaDb,
  from: number,
  to: number,
  limit: number,
  snapshot?: AbstractSnapshot,
): Promise<HistoryRecord[]> {
  const records: HistoryRecord[] = [];
  if (from > to) return records;
  const options = { gte: historyKey(from), lte: historyKey(to), limit, ...(snapshot ? { snapshot } : {}) };
  for await (const [k, v] of db.iterator(options)) {
    records.push({ revision: revisionOfHistoryKey(k), events: decodeHistory(v) });
  }
  return records;
}

function inRange(key: Buffer, start: Buffer, end: Buffer): boolean {
  return Buffer.compare(key, start) >= 0 && (isUnbounded(end) || Buffer.compare(key, end) < 0);
}

/** For each key in [start, end) changed after `at`: its state at `at` (undefined = absent). */
async function stateBefore(
  db: MetaDb,
  snapshot: AbstractSnapshot,
  at: number,
  current: number,
  start: Buffer,
  end: Buffer,
): Promise<Map<string, KeyValue | undefined>> {
  const touched = new Map<string, KeyValue | undefined>();
  for (const record of await readHistory(db, at + 1, current, Infinity, snapshot)) {
    for (const e of record.events) {
      if (touched.has(e.kv.key) || !inRange(Buffer.from(e.kv.key, 'utf8'), start, end)) continue;
      touched.set(e.kv.key, e.prev);
    }
  }
  return touched;
}

/** A range of the embedded store; see `MetaKV.range`. */
export async function rangeRead(db: MetaDb, prefix: string, options: RangeOptions): Promise<RangeResult> {
  const snapshot = db.snapshot();
  try {
    const current = readU64(await db.get(META_REVISION, { snapshot }), 1);
    const compacted = readU64(await db.get(META_COMPACT, { snapshot }), 0);
    const at = options.revision ?? current;
    if (at > current) throw futureRevision(at, current);
    if (at < compacted) throw revisionCompacted(at, compacted);
    const prefixBytes = Buffer.from(prefix, 'utf8');
    const start = rangeStart(prefixBytes, options.startAfter);
    const end = prefixEnd(prefixBytes);
    const limit = options.limit ?? Infinity;
    const touched = at < current ? await stateBefore(db, snapshot, at, current, start, end) : new Map<string, KeyValue | undefined>();
    const kvs = await mergeRange(db, snapshot, start, end, touched, limit + 1);
    const more = kvs.length > limit;
    if (more) kvs.length = limit;
    return { kvs, more, revision: at };
  } finally {
    await snapshot.close();
  }
}

/**
 * Walks the latest keys in [start, end) and the keys changed since the wanted revision together,
 * in key order, taking each key's state at that revision; stops after `want` keys.
 */
async function mergeRange(
  db: MetaDb,
  snapshot: AbstractSnapshot,
  start: Buffer,
  end: Buffer,
  touched: Map<string, KeyValue | undefined>,
  want: number,
): Promise<KeyValue[]> {
  const changed = [...touched.keys()]
    .map((k) => Buffer.from(k, 'utf8'))
    .sort(Buffer.compare);
  let c = 0;
  const out: KeyValue[] = [];
  const take = (key: string, latest: KeyValue | undefined): void => {
    const kv = touched.has(key) ? touched.get(key) : latest;
    if (kv !== undefined) out.push(kv);
  };
  const iterator = db.iterator({ gte: dataKey(start), lt: isUnbounded(end) ? DATA_END : dataKey(end), snapshot });
  try {
    for (let entry = await iterator.next(); entry !== undefined && out.length < want; entry = await iterator.next()) {
      const [k, v] = entry;
      const keyBytes = k.subarray(1);
      // Keys that changed since but are gone now come before this one.
      while (c < changed.length && Buffer.compare(changed[c]!, keyBytes) < 0 && out.length < want) {
        take(changed[c++]!.toString('utf8'), undefined);
      }
      if (c < changed.length && changed[c]!.equals(keyBytes)) c++;
      if (out.length < want) take(keyOfDataKey(k), decodeKv(keyOfDataKey(k), v));
    }
  } finally {
    await iterator.close();
  }
  while (c < changed.length && out.length < want) take(changed[c++]!.toString('utf8'), undefined);
  return out;
}
