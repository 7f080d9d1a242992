/**
 * DESIGN.md §9.1 on one node: a process appending through the full WAL (LevelDB, sync writes) is
 * killed with SIGKILL in the middle of a burst; the next owner opens the pchannel at the next term
 * and finds every acknowledged append, and the transaction the dead process left open can still be
 * committed (recovery rebuilt it from the checkpoint).
 *
 * The child is a small script written next to the data (so no fixture outside this file), run with
 * `node --import tsx`; it prints one line per acknowledged append.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isImmutableTxnMessage, LevelWalBackendOpener, WalOpener } from '../../node/wal/index.js';
import {
  deliverAll,
  LocalTsoAllocator,
  MessageId,
  MessageType,
  newCommitTxnMessage,
  newUserMessage,
  pchannelInfo,
  txnContext,
  vchannelName,
} from '../../shared/index.js';
import { useProcesses } from '../harness/procs.js';
import { uniqueName } from '../harness/unique.js';

const ROOT = resolve(import.meta.dirname, '../..');
const moduleUrl = (path: string): string => pathToFileURL(join(ROOT, path)).href;

/** The child: open term 1, leave a transaction open, then append as fast as it can and report each ack. */
const CHILD = `
import { WalOpener, LevelWalBackendOpener } from '${moduleUrl('node/wal/index.ts')}';
import { LocalTsoAllocator, MessageType, newBeginTxnMessage, newUserMessage, pchannelInfo } from '${moduleUrl('shared/index.ts')}';
const [dataRoot, pchannel, vchannel] = process.argv.slice(2);
const backendOpener = new LevelWalBackendOpener({ dataRoot, sync: true });
const opener = new WalOpener({ backendOpener, tso: new LocalTsoAllocator(), config: { checkpointIntervalMs: 50, timeTickIntervalMs: 20 } });
const wal = await opener.open(pchannelInfo(pchannel, 1n), { signal: new AbortController().signal });
const begin = await wal.append(newBeginTxnMessage({ vchannel, keepaliveMs: 600000 }));
const txn = begin.txnContext;
for (let i = 0; i < 2; i++) await wal.append(newUserMessage({ type: MessageType.Insert, vchannel, payload: Buffer.from('body') }).withTxnContext(txn));
process.stdout.write(JSON.stringify({ msg: 'ready', txnId: txn.txnId.toString(), keepaliveMs: txn.keepaliveMs.toString() }) + '\\n');
let seq = 0;
const worker = async () => {
  for (;;) {
    const i = seq++;
    const r = await wal.append(newUserMessage({ type: MessageType.Insert, vchannel, payload: Buffer.alloc(256, 1), properties: { i: String(i) } }));
    process.stdout.write('acked ' + r.messageId.marshal() + '\\n');
  }
};
await Promise.all(Array.from({ length: 16 }, worker));
`;

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('WAL crash recovery across processes', () => {
  const start = useProcesses();

  it('after SIGKILL mid-burst, the next term finds every acknowledged append and can commit the open txn', async () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'wal-crash-'));
    roots.push(dataRoot);
    const script = join(dataRoot, 'child.mts');
    writeFileSync(script, CHILD);
    const pchannel = `${uniqueName('crash')}-rootcoord-dml_0`;
    const vchannel = vchannelName(pchannel, 1, 0);

    const child = await start({
      cmd: process.execPath,
      args: ['--import', 'tsx', script, dataRoot, pchannel, vchannel],
      cwd: ROOT,
      name: 'wal-crash-child',
      keepLines: 1_000_000,
      readyTimeoutMs: 30_000,
    });
    const txn = txnContext(BigInt(child.ready['txnId'] as string), BigInt(child.ready['keepaliveMs'] as string));
    await child.waitForLine((line) => child.lines().length > 500 && line.startsWith('acked'), { timeoutMs: 30_000 });
    child.kill('SIGKILL');
    await child.waitExit();
    const acked = child.lines().flatMap((line) => (line.startsWith('acked ') ? [MessageId.unmarshal(line.slice(6))] : []));
    expect(acked.length).toBeGreaterThan(400);

    const backendOpener = new LevelWalBackendOpener({ dataRoot });
    try {
      const opener = new WalOpener({ backendOpener, tso: new LocalTsoAllocator(), config: { txnGracefulCloseTimeoutMs: 50 } });
      const wal = await opener.open(pchannelInfo(pchannel, 2n), { signal: new AbortController().signal });
      await wal.append(newCommitTxnMessage({ vchannel, txn }));
      const last = await wal.append(newUserMessage({ type: MessageType.Insert, vchannel, payload: Buffer.from('last'), properties: { last: '1' } }));
      const seen = new Set<string>();
      let txnBodies = -1;
      for await (const m of wal.read({ deliverPolicy: deliverAll() })) {
        if (isImmutableTxnMessage(m)) txnBodies = m.bodies.length;
        else seen.add(m.messageId.marshal());
        if (m.messageId.equals(last.messageId)) break;
      }
      const missing = acked.filter((id) => !seen.has(id.marshal()));
      expect(missing.map((id) => id.toString())).toEqual([]);
      expect(txnBodies).toBe(2);
      await wal.close();
    } finally {
      await backendOpener.close();
    }
  }, 90_000);
});
