/**
 * Benchmark of the LevelDB WAL backend (one pchannel at a time, 1 KiB payloads, realistic
 * properties, sync on unless `--no-sync`):
 * 1. appends/s with 1, 16, 256 and 1024 appends in flight (closed loop);
 * 2. catch-up scan rate: a fresh opener (empty tail cache) reads everything from LevelDB;
 * 3. append → tailing scanner latency at a paced rate (p50 / p99 / p99.9);
 * plus raw LevelDB baselines measured last in the same run (this machine is shared; compare to
 * them): one value per message, and the same bytes packed the way record blocks pack them.
 * Prints a table and writes `bench/results/wal-backend.json`. Bounded run time (< 60 s).
 *
 * Run: `npx tsx bench/wal-backend.ts [--no-sync] [--seconds N]`
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { levelBinding, LevelWalBackendOpener, type WalBackend } from '../node/wal/backend/index.js';
import {
  deliverAll,
  deliverLatest,
  MessageId,
  MessageType,
  type MutableMessage,
  newUserMessage,
  pchannelInfo,
} from '../shared/message/index.js';
import { round, summarize, type LatencySummary } from './lib/percentiles.js';
import { RAW_MESSAGES_PER_BLOCK, rawLevelBaseline } from './lib/raw-level.js';

const args = process.argv.slice(2);
const SYNC = !args.includes('--no-sync');
const secondsArg = args.indexOf('--seconds');
const APPEND_SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 4;
const PAYLOAD_BYTES = 1024;
const CONCURRENCY = [1, 16, 256, 1024] as const;
const CATCHUP_LIMIT_MS = 6_000;
const TAIL_RATES = [10_000, 50_000] as const;
const TAIL_SECONDS = 3;

/** A pool of distinct messages shaped like node-stamped inserts (type, version, vchannel, tt, lc, term). */
function messagePool(size: number): MutableMessage[] {
  const pool: MutableMessage[] = [];
  for (let i = 0; i < size; i++) {
    pool.push(
      newUserMessage({
        type: MessageType.Insert,
        vchannel: 'by-dev-rootcoord-dml_0_100v0',
        header: randomBytes(16),
        payload: randomBytes(PAYLOAD_BYTES),
        properties: { seq: String(i) },
      })
        .withTimeTick(BigInt(Date.now()) << 18n)
        .withLastConfirmed(MessageId.of(i))
        .withWalTerm(1n),
    );
  }
  return pool;
}

/** Closed-loop appends; returns msg/s and process CPU (all threads) per message in µs. */
async function appendThroughput(wal: WalBackend, concurrency: number, seconds: number, pool: MutableMessage[]): Promise<{ rate: number; cpuMicrosPerMessage: number }> {
  const deadline = performance.now() + seconds * 1000;
  const cpu = process.cpuUsage();
  let count = 0;
  const worker = async (w: number): Promise<void> => {
    let i = w;
    while (performance.now() < deadline) {
      await wal.append(pool[i % pool.length] as MutableMessage);
      count++;
      i += concurrency;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const used = process.cpuUsage(cpu);
  return { rate: round(count / ((performance.now() - start) / 1000)), cpuMicrosPerMessage: round((used.user + used.system) / count, 2) };
}

async function catchUp(wal: WalBackend): Promise<{ messages: number; rate: number }> {
  const scanner = wal.read({ name: 'bench-catch-up', deliverPolicy: deliverAll() });
  const start = performance.now();
  const deadline = start + CATCHUP_LIMIT_MS;
  let messages = 0;
  let bytes = 0;
  for await (const m of scanner) {
    bytes += m.payload.length;
    messages++;
    if ((messages & 1023) === 0 && performance.now() > deadline) break;
    if (m.messageId.equals(wal.latestMessageId() ?? MessageId.MIN)) break;
  }
  await scanner.close();
  return { messages, rate: messages / ((performance.now() - start) / 1000) };
}

async function tailLatency(wal: WalBackend, rate: number, pool: MutableMessage[]): Promise<LatencySummary & { achievedRate: number }> {
  const total = rate * TAIL_SECONDS;
  const sentAt = new Float64Array(total);
  const latencies = new Float64Array(total);
  const scanner = wal.read({ name: 'bench-tail', deliverPolicy: deliverLatest() });
  const base = wal.latestMessageId()?.offset ?? 0n;
  const reader = (async () => {
    let n = 0;
    for await (const m of scanner) {
      // Ids are contiguous from `base + 1`, in append order.
      const i = Number(m.messageId.offset - base - 1n);
      latencies[n++] = performance.now() - (sentAt[i] as number);
      if (n === total) break;
    }
  })();
  const start = performance.now();
  const appends: Promise<MessageId>[] = [];
  for (let sent = 0; sent < total; ) {
    // Paced in 1 ms steps: send what the schedule says is due by now.
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      sentAt[sent] = performance.now();
      appends.push(wal.append(pool[sent % pool.length] as MutableMessage));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(appends);
  await reader;
  const achievedRate = total / ((performance.now() - start) / 1000);
  return { ...summarize(latencies), achievedRate: round(achievedRate) };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-wal-backend-'));
  const pool = messagePool(4096);
  const results: Record<string, unknown> = {};
  const started = performance.now();
  try {
    let opener = new LevelWalBackendOpener({ dataRoot: root, sync: SYNC });
    const appendRates: Record<string, number> = {};
    const appendCpu: Record<string, number> = {};
    let bulk: WalBackend | undefined;
    for (const c of CONCURRENCY) {
      const wal = await opener.open(pchannelInfo(`bench-append-${c}`, 1n));
      const measured = await appendThroughput(wal, c, c === 1 ? Math.min(2, APPEND_SECONDS) : APPEND_SECONDS, pool);
      appendRates[String(c)] = measured.rate;
      appendCpu[String(c)] = measured.cpuMicrosPerMessage;
      process.stdout.write(`appends/s at ${c} in flight: ${JSON.stringify(measured)}\n`);
      if (c === 1024) bulk = wal;
      else await wal.close();
    }
    results['appendsPerSecond'] = appendRates;
    results['appendCpuMicrosPerMessage'] = appendCpu;
    await bulk?.close();
    await opener.close();

    // A fresh opener: nothing cached, the scan reads LevelDB.
    opener = new LevelWalBackendOpener({ dataRoot: root, sync: SYNC });
    const reader = await opener.open(pchannelInfo('bench-append-1024', 2n));
    const scan = await catchUp(reader);
    results['catchUp'] = { messages: scan.messages, messagesPerSecond: round(scan.rate) };
    process.stdout.write(`catch-up: ${round(scan.rate)} msg/s over ${scan.messages} messages\n`);
    await reader.close();

    const tail: Record<string, unknown> = {};
    for (const rate of TAIL_RATES) {
      const wal = await opener.open(pchannelInfo(`bench-tail-${rate}`, 1n));
      tail[String(rate)] = await tailLatency(wal, rate, pool);
      process.stdout.write(`tail latency at ${rate}/s: ${JSON.stringify(tail[String(rate)])}\n`);
      await wal.close();
    }
    results['tailLatencyMs'] = tail;
    await opener.close();

    // Last: its 3 s of bulk writes would otherwise slow the fsyncs of the phases after it.
    const baseline = await rawLevelBaseline(join(root, 'raw-baseline'), { seconds: 3, sync: SYNC, payloadBytes: PAYLOAD_BYTES, packed: false });
    results['rawLevelBaseline'] = baseline;
    process.stdout.write(`raw LevelDB baseline: ${JSON.stringify(baseline)}\n`);
    const packed = await rawLevelBaseline(join(root, 'raw-packed'), { seconds: 3, sync: SYNC, payloadBytes: PAYLOAD_BYTES, packed: true });
    results['rawLevelPacked'] = packed;
    process.stdout.write(`raw LevelDB packed: ${JSON.stringify(packed)}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const report = {
    benchmark: 'wal-backend',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadAverage1m: round(loadavg()[0] ?? 0, 2),
    levelBinding: levelBinding(),
    sync: SYNC,
    payloadBytes: PAYLOAD_BYTES,
    elapsedSeconds: round((performance.now() - started) / 1000, 1),
    ...results,
  };
  printTable(report);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'wal-backend.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}

function printTable(report: Record<string, unknown>): void {
  const rows: [string, string][] = [];
  const baseline = report['rawLevelBaseline'] as { appendsPerSecond: number; cpuMicrosPerMessage: number; scanPerSecond: number };
  rows.push(['raw LevelDB: 1024-put batches (msg/s)', `${baseline.appendsPerSecond}  (${baseline.cpuMicrosPerMessage} µs CPU/msg, all threads)`]);
  rows.push(['raw LevelDB: nextv scan (msg/s)', String(baseline.scanPerSecond)]);
  const packed = report['rawLevelPacked'] as typeof baseline;
  rows.push([`raw LevelDB: same bytes in ${RAW_MESSAGES_PER_BLOCK}-msg values (msg/s)`, `${packed.appendsPerSecond}  (${packed.cpuMicrosPerMessage} µs CPU/msg, all threads)`]);
  const cpu = report['appendCpuMicrosPerMessage'] as Record<string, number>;
  for (const [c, v] of Object.entries(report['appendsPerSecond'] as Record<string, number>)) {
    rows.push([`append, ${c} in flight (msg/s)`, `${v}  (${cpu[c]} µs CPU/msg, all threads)`]);
  }
  const scan = report['catchUp'] as { messagesPerSecond: number; messages: number };
  rows.push([`catch-up scan (msg/s, ${scan.messages} msgs)`, String(scan.messagesPerSecond)]);
  for (const [rate, v] of Object.entries(report['tailLatencyMs'] as Record<string, LatencySummary & { achievedRate: number }>)) {
    rows.push([`append→tail at ${rate}/s p50/p99/p99.9 (ms)`, `${v.p50} / ${v.p99} / ${v.p999} (achieved ${v.achievedRate}/s)`]);
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  const binding = report['levelBinding'] as ReturnType<typeof levelBinding>;
  console.log(`\nwal-backend (LevelDB ${binding.kind} build, ${binding.crc32c} CRC32C, sync=${String(report['sync'])}, ${PAYLOAD_BYTES} B payloads, node ${process.version}, ${cpus().length} cpus, load ${loadavg()[0]?.toFixed(1)})`);
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

await main();
