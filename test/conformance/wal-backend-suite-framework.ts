/**
 * The Milvus walimpls conformance framework (milvus-node.md §1.5, `walimpls/test_framework.go`):
 * 3 pchannels in parallel, each opened at terms 1..3; per term concurrent appends and two `all`
 * readers that must see every message of every term in id order; exact startFrom / startAfter
 * slices; `latest` sees only new messages; a read-only open refuses appends; data of earlier terms
 * survives close and reopen at a higher term.
 */
import { expect, it } from 'vitest';
import { type WalBackend, type WalBackendOpener } from '../../node/wal/backend/index.js';
import { deliverAll, deliverLatest, deliverStartAfter, deliverStartFrom, type ImmutableMessage } from '../../shared/message/index.js';
import {
  appendMany,
  channelName,
  describeMessages,
  expectStreamingError,
  expectStrictlyIncreasing,
  message,
  openAt,
  readUntil,
  StreamingCode,
  type SuiteContext,
  take,
} from './wal-backend-fixture.js';

const MESSAGES_PER_TERM = 120;

/** Registers the framework tests. */
export function frameworkTests(ctx: () => SuiteContext): void {
  it('runs the walimpls framework: 3 pchannels in parallel × terms 1..3', async () => {
    const { opener } = ctx();
    const names = [channelName('fw-a'), channelName('fw-b'), channelName('fw-c')];
    await Promise.all(names.map((name) => runChannel(opener, name)));
  });

  it('reads the exact startFrom (inclusive) and startAfter (exclusive) slices', async () => {
    const wal = await openAt(ctx().opener, channelName('slice'), 1n);
    const written = await appendMany(wal, 's', 40, 8);
    const scanners = [];
    for (const mid of [0, 1, 17, 38, 39]) {
      const id = (written[mid] as ImmutableMessage).messageId;
      const from = wal.read({ name: `from-${mid}`, deliverPolicy: deliverStartFrom(id) });
      expect(describeMessages(await take(from, 40 - mid))).toEqual(describeMessages(written.slice(mid)));
      const after = wal.read({ name: `after-${mid}`, deliverPolicy: deliverStartAfter(id) });
      if (mid < 39) expect(describeMessages(await take(after, 39 - mid))).toEqual(describeMessages(written.slice(mid + 1)));
      scanners.push(from, after);
    }
    // Nothing more in any of them: the next message each sees is one appended now.
    const markerId = await wal.append(message('marker'));
    for (const s of scanners) expect((await take(s, 1))[0]?.messageId.equals(markerId)).toBe(true);
    await Promise.all(scanners.map((s) => s.close()));
  });

  it('a startFrom position beyond the end waits for that message', async () => {
    const wal = await openAt(ctx().opener, channelName('future'), 1n);
    const first = await wal.append(message('0'));
    const scanner = wal.read({ name: 'future', deliverPolicy: deliverStartFrom(first.next().next()) });
    const reading = take(scanner, 1);
    await wal.append(message('1'));
    const third = await wal.append(message('2'));
    expect((await reading)[0]?.messageId.equals(third)).toBe(true);
  });

  it('latest sees nothing appended before it was created, and everything after', async () => {
    const wal = await openAt(ctx().opener, channelName('latest'), 1n);
    await appendMany(wal, 'old', 10);
    const latest = wal.read({ name: 'latest', deliverPolicy: deliverLatest() });
    const fresh = await appendMany(wal, 'new', 5, 1);
    expect(describeMessages(await take(latest, 5))).toEqual(describeMessages(fresh));
  });

  it('a read-only backend refuses appends, truncates and checkpoints but reads', async () => {
    const { opener } = ctx();
    const name = channelName('ro');
    const rw = await openAt(opener, name, 1n);
    const written = await appendMany(rw, 'w', 5);
    const ro = await openAt(opener, name, 1n, 'ro');
    expect(ro.channel).toEqual({ name, term: 1n, accessMode: 'ro' });
    await expectStreamingError(ro.append(message('x')), StreamingCode.INVAILD_ARGUMENT, 'read-only', name);
    await expectStreamingError(ro.truncate(written[0]!.messageId), StreamingCode.INVAILD_ARGUMENT, 'read-only');
    await expectStreamingError(ro.saveCheckpoint(Buffer.from('c')), StreamingCode.INVAILD_ARGUMENT, 'read-only');
    const scanner = ro.read({ name: 'ro-all', deliverPolicy: deliverAll() });
    expect(describeMessages(await take(scanner, 5))).toEqual(describeMessages(written));
    // The reader tails the writer in the same process.
    const more = await appendMany(rw, 'more', 3, 1);
    expect(describeMessages(await take(scanner, 3))).toEqual(describeMessages(more));
  });
}

/** One pchannel through terms 1..3, as the Go framework does it. */
async function runChannel(opener: WalBackendOpener, name: string): Promise<void> {
  const history: ImmutableMessage[] = [];
  for (const term of [1n, 2n, 3n]) {
    const wal = await openAt(opener, name, term);
    expect(wal.channel).toEqual({ name, term, accessMode: 'rw' });
    expect(wal.walName).toBe('rocksmq');
    const readers = [0, 1].map((r) => readTermMarker(wal, `${name}-reader-${r}@${term}`, term));
    const written = await appendMany(wal, `t${term}`, MESSAGES_PER_TERM - 1, 5);
    const marker = message(`t${term}-marker`, { term: term.toString() });
    written.push(marker.intoImmutable(await wal.append(marker)));
    history.push(...written);
    expectStrictlyIncreasing(written.slice().sort((a, b) => a.messageId.compare(b.messageId)));
    const expected = describeMessages(history.slice().sort((a, b) => a.messageId.compare(b.messageId)));
    for (const seen of await Promise.all(readers)) {
      expectStrictlyIncreasing(seen);
      expect(describeMessages(seen)).toEqual(expected);
      for (const m of seen) expect(m.property('const')).toBe('c');
    }
    await checkSlices(wal, history);
    await checkReadOnly(opener, name, term);
    await wal.close();
  }
}

/** An `all` reader that reads until this term's marker. */
function readTermMarker(wal: WalBackend, readerName: string, term: bigint): Promise<ImmutableMessage[]> {
  const scanner = wal.read({ name: readerName, deliverPolicy: deliverAll() });
  return readUntil(scanner, (m) => m.property('term') === term.toString(), 20_000, () => `term ${term} marker`).finally(() => scanner.close());
}

async function checkSlices(wal: WalBackend, history: readonly ImmutableMessage[]): Promise<void> {
  const sorted = history.slice().sort((a, b) => a.messageId.compare(b.messageId));
  const mid = Math.floor(sorted.length / 2);
  const midId = (sorted[mid] as ImmutableMessage).messageId;
  const from = wal.read({ name: 'from-mid', deliverPolicy: deliverStartFrom(midId) });
  const after = wal.read({ name: 'after-mid', deliverPolicy: deliverStartAfter(midId) });
  expect(describeMessages(await take(from, sorted.length - mid))).toEqual(describeMessages(sorted.slice(mid)));
  expect(describeMessages(await take(after, sorted.length - mid - 1))).toEqual(describeMessages(sorted.slice(mid + 1)));
  await Promise.all([from.close(), after.close()]);
}

async function checkReadOnly(opener: WalBackendOpener, name: string, term: bigint): Promise<void> {
  const ro = await openAt(opener, name, term, 'ro');
  await expectStreamingError(ro.append(message('ro')), StreamingCode.INVAILD_ARGUMENT, 'read-only');
  await ro.close();
}
