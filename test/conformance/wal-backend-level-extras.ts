/**
 * LevelDB-only checks: everything survives a new opener (a restart), the `sync` option reaches
 * LevelDB, the on-disk layout is blocks of Milvus RocksMQ values (an older layout is refused), a second holder of a directory is refused,
 * corruption is reported, and the storage read path works with the tail cache disabled.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, expect, it, vi } from 'vitest';
import { Deferred, waitFor } from '../../shared/util/index.js';
import { LevelWalBackendOpener, RMQ_MAGIC, type WalBackendOpener } from '../../node/wal/backend/index.js';
import { decodeProto } from '../../shared/proto/index.js';
import { deliverAll, deliverLatest, deliverStartAfter, deliverStartFrom, MutableMessage } from '../../shared/message/index.js';
import {
  appendMany,
  channelName,
  describeMessages,
  expectStreamingError,
  message,
  openAt,
  StreamingCode,
  type SuiteContext,
  take,
} from './wal-backend-fixture.js';

type RawDb = Level<Buffer, Buffer>;

/** Temp data roots and openers of the tests below, removed after each test. */
const roots: string[] = [];
const openers: WalBackendOpener[] = [];

function levelOpener(options: Partial<ConstructorParameters<typeof LevelWalBackendOpener>[0]> = {}): LevelWalBackendOpener {
  const dataRoot = options.dataRoot ?? mkdtempSync(join(tmpdir(), 'wal-backend-level-'));
  if (options.dataRoot === undefined) roots.push(dataRoot);
  const opener = new LevelWalBackendOpener({ ...options, dataRoot });
  openers.push(opener);
  return opener;
}

/** Opens the raw database of a closed pchannel, runs `edit`, closes it again. */
async function mkdirDb(dir: string, edit: (db: RawDb) => Promise<unknown>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const db = await rawDb(dir);
  try {
    await edit(db);
  } finally {
    await db.close();
  }
}

/** The records of a stored block (format in node/wal/backend/record-block.ts), parsed independently. */
function splitBlock(value: Buffer): Buffer[] {
  expect(value[0]).toBe(1);
  const count = value.readUInt32BE(1);
  const records: Buffer[] = [];
  let at = 5 + 4 * count;
  for (let i = 0; i < count; i++) {
    const length = value.readUInt32BE(5 + 4 * i);
    records.push(value.subarray(at, at + length));
    at += length;
  }
  expect(at).toBe(value.length);
  return records;
}

type ChainedWrite = (options?: { sync?: boolean }) => Promise<void>;

/** Routes the `write` of every chained batch (`db.batch()`) opened from now on through `wrap`; restored after each test. */
function wrapChainedWrites(wrap: (write: ChainedWrite, options?: { sync?: boolean }) => Promise<void>): void {
  const batch = Level.prototype.batch as (this: RawDb, ...args: unknown[]) => unknown;
  vi.spyOn(Level.prototype, 'batch').mockImplementation(function (this: RawDb, ...args: unknown[]) {
    const chained = batch.apply(this, args) as { write: ChainedWrite };
    if (args.length === 0) {
      const write = chained.write.bind(chained);
      chained.write = (options) => wrap(write, options);
    }
    return chained as never;
  });
}

async function rawDb(dir: string): Promise<RawDb> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  return db;
}

/** Registers the LevelDB-only tests. */
export function levelOnlyTests(ctx: () => SuiteContext): void {
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.allSettled(openers.splice(0).map((o) => o.close()));
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  it('keeps records, fence term, floor and checkpoint across a new opener (restart)', async () => {
    const { opener } = ctx();
    const name = channelName('restart');
    const wal = await openAt(opener, name, 4n);
    const written = await appendMany(wal, 'm', 30);
    await wal.truncate(written[4]!.messageId);
    await wal.saveCheckpoint(Buffer.from('cp-4'));
    await opener.close();

    const next = ctx().newOpener();
    await expectStreamingError(openAt(next, name, 3n), StreamingCode.CHANNEL_FENCED, 'term 4');
    const reopened = await openAt(next, name, 5n);
    expect((await reopened.loadCheckpoint())?.toString()).toBe('cp-4');
    expect(reopened.earliestMessageId()?.equals(written[5]!.messageId)).toBe(true);
    const all = await take(reopened.read({ name: 'all', deliverPolicy: deliverAll() }), 25);
    expect(describeMessages(all)).toEqual(describeMessages(written.slice(5)));
    expect(all[0]?.properties).toEqual(written[5]?.properties);
    const id = await reopened.append(message('after-restart'));
    expect(id.gt(written[29]!.messageId)).toBe(true);
  });

  it('writes batches with sync by default and without when asked; meta values always sync', async () => {
    const syncs: (boolean | undefined)[] = [];
    wrapChainedWrites((write, options) => (syncs.push(options?.sync), write(options)));
    const synced = await openAt(levelOpener(), channelName('sync'), 1n);
    await synced.append(message('a'));
    expect(syncs.at(-1)).toBe(true);
    const unsynced = await openAt(levelOpener({ sync: false }), channelName('nosync'), 1n);
    await unsynced.append(message('b'));
    expect(syncs.at(-1)).toBe(false);
    await unsynced.saveCheckpoint(Buffer.from('c'));
    expect(syncs.at(-1)).toBe(true);
  });

  it('stores each batch as one block keyed by its last offset, each record a Milvus RocksMQ value', async () => {
    const opener = levelOpener();
    const name = channelName('layout');
    const wal = await openAt(opener, name, 7n);
    const ids = [await wal.append(message('x', { k: 'v' })), await wal.append(message('y'))];
    // Issued together: one group-commit batch, so one block.
    const together = await Promise.all(['p', 'q', 'r'].map((tag) => wal.append(message(tag))));
    await opener.close();
    const db = await rawDb(opener.directoryOf(name));
    try {
      const blocks = await db.iterator({ gte: Buffer.from([0x62]), lt: Buffer.from([0x63]) }).all();
      expect(blocks.map(([k]) => k.toString('hex'))).toEqual([ids[0]!, ids[1]!, together[2]!].map((id) => `62${id.toBytes().toString('hex')}`));
      const decoded = blocks.map(([, value]) => splitBlock(value));
      expect(decoded.map((records) => records.length)).toEqual([1, 1, 3]);
      const layouts = decoded.flat().map((record) => {
        expect(record.subarray(0, RMQ_MAGIC.length).equals(RMQ_MAGIC)).toBe(true);
        return decodeProto<{ payload: Buffer; properties: Record<string, string> }>('milvus.proto.messages.RMQMessageLayout', record.subarray(RMQ_MAGIC.length));
      });
      expect(layouts.map((l) => Buffer.from(l.payload).toString())).toEqual(['payload-x', 'payload-y', 'payload-p', 'payload-q', 'payload-r']);
      expect(layouts[0]!.properties).toEqual({ id: 'x', const: 'c', k: 'v' });
      expect((await db.get(Buffer.from('Mterm')))?.readBigInt64BE(0)).toBe(7n);
      // Meta keys sort before every block (level-keys.ts says why).
      const keys = (await db.keys().all()).map((k) => k.toString('latin1', 0, 1));
      expect(keys).toEqual(['M', 'b', 'b', 'b']);
    } finally {
      await db.close();
    }
  });

  it('drops the batch built behind a failed write: only what was rebuilt at the freed offsets lands', async () => {
    const failFirst = new Deferred<void>();
    let chainedWrites = 0;
    // The first append batch (after the fence term) fails once the test says so.
    wrapChainedWrites((write, options) => (++chainedWrites === 2 ? failFirst.promise.then(() => Promise.reject(new Error('disk on fire'))) : write(options)));
    const opener = levelOpener();
    const name = channelName('rebuild');
    const wal = await openAt(opener, name, 1n);
    const failed = wal.append(message('a'));
    await waitFor(() => chainedWrites === 2);
    // Built (and copied into a LevelDB batch) while the first write is in flight.
    const behind = Promise.all(['b', 'c'].map((tag) => wal.append(message(tag))));
    failFirst.resolve();
    await expectStreamingError(failed, StreamingCode.INNER);
    const ids = await behind;
    expect(ids.map((id) => id.offset)).toEqual([1n, 2n]);
    const read = await take(wal.read({ name: 'after-failure', deliverPolicy: deliverAll() }), 2);
    expect(read.map((m) => [m.messageId.offset, m.payload.toString()])).toEqual([
      [1n, 'payload-b'],
      [2n, 'payload-c'],
    ]);
    await opener.close();
    const db = await rawDb(opener.directoryOf(name));
    try {
      const blocks = await db.iterator({ gte: Buffer.from([0x62]), lt: Buffer.from([0x63]) }).all();
      expect(blocks.map(([k, value]) => [k.readBigUInt64BE(1), splitBlock(value).length])).toEqual([[2n, 2]]);
    } finally {
      await db.close();
    }
  });

  it('refuses a pchannel directory written in the one-value-per-record layout', async () => {
    const opener = levelOpener();
    const name = channelName('legacy');
    await mkdirDb(opener.directoryOf(name), async (db) => {
      await db.put(Buffer.concat([Buffer.from([0x72]), Buffer.alloc(8)]), Buffer.from('old'));
    });
    await expectStreamingError(openAt(opener, name, 1n), StreamingCode.UNRECOVERABLE, 'older on-disk layout');
  });

  it('moves meta values of the earlier layout (keys after the blocks) in front of them on open', async () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'wal-backend-level-'));
    roots.push(dataRoot);
    const opener = levelOpener({ dataRoot });
    const name = channelName('legacy-meta');
    const wal = await openAt(opener, name, 6n);
    const written = await appendMany(wal, 'm', 10);
    await wal.truncate(written[3]!.messageId);
    await wal.saveCheckpoint(Buffer.from('cp-6'));
    await opener.close();
    const metaNames = ['term', 'floor', 'checkpoint'];
    await mkdirDb(opener.directoryOf(name), async (db) => {
      for (const meta of metaNames) {
        const value = await db.get(Buffer.from(`M${meta}`));
        await db.batch([{ type: 'put', key: Buffer.from(`m${meta}`), value: value! }, { type: 'del', key: Buffer.from(`M${meta}`) }]);
      }
    });

    const next = levelOpener({ dataRoot });
    await expectStreamingError(openAt(next, name, 5n), StreamingCode.CHANNEL_FENCED, 'term 6');
    const reopened = await openAt(next, name, 7n);
    expect((await reopened.loadCheckpoint())?.toString()).toBe('cp-6');
    expect(reopened.earliestMessageId()?.equals(written[4]!.messageId)).toBe(true);
    const all = await take(reopened.read({ name: 'all', deliverPolicy: deliverAll() }), 6);
    expect(describeMessages(all)).toEqual(describeMessages(written.slice(4)));
    await next.close();
    await mkdirDb(opener.directoryOf(name), async (db) => {
      expect(await db.getMany(metaNames.map((meta) => Buffer.from(`m${meta}`)))).toEqual([undefined, undefined, undefined]);
      expect((await db.get(Buffer.from('Mterm')))?.readBigInt64BE(0)).toBe(7n);
    });
  });

  it('after a downgrade wrote the earlier keys too: keeps the higher term and floor, and the later checkpoint', async () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'wal-backend-level-'));
    roots.push(dataRoot);
    const opener = levelOpener({ dataRoot });
    const name = channelName('downgraded');
    const wal = await openAt(opener, name, 6n);
    const written = await appendMany(wal, 'm', 10);
    await wal.truncate(written[3]!.messageId);
    await wal.saveCheckpoint(Buffer.from('cp-new'));
    await opener.close();
    // What an older release leaves after opening the log at term 2 (it cannot see term 6) with
    // a floor of its own below the newer one.
    const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(n); return b; };
    await mkdirDb(opener.directoryOf(name), async (db) => {
      await db.batch([
        { type: 'put', key: Buffer.from('mterm'), value: u64(2n) },
        { type: 'put', key: Buffer.from('mfloor'), value: u64(2n) },
        { type: 'put', key: Buffer.from('mcheckpoint'), value: Buffer.from('cp-old-release') },
      ]);
    });

    const next = levelOpener({ dataRoot });
    await expectStreamingError(openAt(next, name, 5n), StreamingCode.CHANNEL_FENCED, 'term 6');
    const reopened = await openAt(next, name, 7n);
    expect((await reopened.loadCheckpoint())?.toString()).toBe('cp-old-release');
    expect(reopened.earliestMessageId()?.equals(written[4]!.messageId)).toBe(true);
    await next.close();
    await mkdirDb(opener.directoryOf(name), async (db) => {
      expect(await db.getMany(['mterm', 'mfloor', 'mcheckpoint'].map((k) => Buffer.from(k)))).toEqual([undefined, undefined, undefined]);
    });
  });

  it('compresses stored blocks only when the compression option asks for it', async () => {
    /** Bytes of the SST files after 2 MiB of zeros went through 64 KiB memtables. */
    const storedBytes = async (compression: boolean): Promise<number> => {
      const opener = levelOpener({ writeBufferSize: 64 * 1024, compression });
      const name = channelName(`compression-${compression}`);
      const wal = await openAt(opener, name, 1n);
      for (let i = 0; i < 64; i++) await wal.append(MutableMessage.create(Buffer.alloc(32 * 1024), { i: String(i) }));
      await opener.close();
      const dir = opener.directoryOf(name);
      return readdirSync(dir).filter((f) => f.endsWith('.ldb')).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    };
    const plain = await storedBytes(false);
    const compressed = await storedBytes(true);
    // The memtables holding all but the last records were flushed to tables (the log holds the rest).
    expect(plain).toBeGreaterThan(1024 * 1024);
    expect(compressed).toBeLessThan(plain / 10);
  });

  it('truncates inside a block: nothing below the floor is read, before or after a restart', async () => {
    const opener = levelOpener({ tailCacheMessages: 0 });
    const name = channelName('midblock');
    const wal = await openAt(opener, name, 1n);
    const written = await Promise.all(Array.from({ length: 10 }, (_, i) => wal.append(message(`m${i}`))));
    await wal.truncate(written[4]!);
    const all = wal.read({ name: 'all', deliverPolicy: deliverAll() });
    expect((await take(all, 5)).map((m) => m.messageId.toString())).toEqual(written.slice(5).map((id) => id.toString()));
    await expectStreamingError(
      take(wal.read({ name: 'below', deliverPolicy: deliverStartFrom(written[2]!) }), 1),
      StreamingCode.UNRECOVERABLE,
      written[5]!.toString(),
    );
    await opener.close();
    const reopened = await openAt(levelOpener({ dataRoot: opener.dataRoot, tailCacheMessages: 0 }), name, 2n);
    const again = reopened.read({ name: 'again', deliverPolicy: deliverAll() });
    expect((await take(again, 5)).map((m) => m.messageId.toString())).toEqual(written.slice(5).map((id) => id.toString()));
  });

  it('refuses a second holder of a pchannel directory in the same process', async () => {
    const first = levelOpener();
    const name = channelName('lock');
    await openAt(first, name, 1n);
    const second = levelOpener({ dataRoot: first.dataRoot });
    await expectStreamingError(openAt(second, name, 2n), StreamingCode.RESOURCE_ACQUIRED, name, first.directoryOf(name));
  });

  it('reports a corrupt record as UNRECOVERABLE naming its offset', async () => {
    const opener = levelOpener({ tailCacheMessages: 0 });
    const name = channelName('corrupt');
    const wal = await openAt(opener, name, 1n);
    const ids = [await wal.append(message('a')), await wal.append(message('b'))];
    await opener.close();
    // A well-formed block whose record is not a RocksMQ value.
    const garbage = Buffer.from('garbage');
    const block = Buffer.alloc(9 + garbage.length);
    block[0] = 1;
    block.writeUInt32BE(1, 1);
    block.writeUInt32BE(garbage.length, 5);
    garbage.copy(block, 9);
    await mkdirDb(opener.directoryOf(name), (db) => db.put(Buffer.concat([Buffer.from([0x62]), ids[1]!.toBytes()]), block));
    const reopened = await openAt(levelOpener({ dataRoot: opener.dataRoot }), name, 2n, 'ro');
    const scanner = reopened.read({ name: 'all', deliverPolicy: deliverAll() });
    await expectStreamingError(take(scanner, 2), StreamingCode.UNRECOVERABLE, `record ${ids[1]!.toString()}`, 'corrupt');
  });

  it('reports a corrupt block as UNRECOVERABLE naming the offset it ends at', async () => {
    const opener = levelOpener({ tailCacheMessages: 0 });
    const name = channelName('corrupt-block');
    const wal = await openAt(opener, name, 1n);
    const ids = [await wal.append(message('a')), await wal.append(message('b'))];
    await opener.close();
    await mkdirDb(opener.directoryOf(name), (db) => db.put(Buffer.concat([Buffer.from([0x62]), ids[1]!.toBytes()]), Buffer.from('garbage')));
    const reopened = await openAt(levelOpener({ dataRoot: opener.dataRoot }), name, 2n, 'ro');
    const scanner = reopened.read({ name: 'all', deliverPolicy: deliverAll() });
    await expectStreamingError(take(scanner, 2), StreamingCode.UNRECOVERABLE, `block ending at record ${ids[1]!.toString()}`, 'corrupt');
  });

  it('reads from storage in chunks when the tail cache is disabled, and switches to tailing', async () => {
    const opener = levelOpener({ tailCacheMessages: 0 });
    const wal = await openAt(opener, channelName('nocache'), 1n);
    const written = await appendMany(wal, 'm', 3000, 50);
    const all = wal.read({ name: 'all', deliverPolicy: deliverAll(), readAheadBufferSize: 100 });
    expect(describeMessages(await take(all, 3000))).toEqual(describeMessages(written));
    const from = wal.read({ name: 'from', deliverPolicy: deliverStartFrom(written[1234]!.messageId), readAheadBufferSize: 7 });
    expect(describeMessages(await take(from, 3000 - 1234))).toEqual(describeMessages(written.slice(1234)));
    const after = wal.read({ name: 'after', deliverPolicy: deliverStartAfter(written[2998]!.messageId) });
    expect(describeMessages(await take(after, 1))).toEqual(describeMessages(written.slice(2999)));
    const latest = wal.read({ name: 'latest', deliverPolicy: deliverLatest() });
    const more = await appendMany(wal, 'n', 500, 20);
    for (const s of [all, from, after, latest]) expect(describeMessages(await take(s, 500))).toEqual(describeMessages(more));
  });
}
