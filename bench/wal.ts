/**
 * Benchmark of the node's full WAL (input checks, lock + time tick interceptors, ack manager,
 * time tick sync, write-ahead buffer, scanner) on the LevelDB backend with sync writes, one
 * pchannel, 1 KiB payloads:
 * 1. appends/s at 1, 64, 512 and 2048 appends in flight (closed loop), after a 1 s warm-up: the
 *    median of 3 interleaved runs of 2 s each, with their range;
 * 2. append → tailing scanner (one vchannel) latency p50 / p99 / p99.9, paced at 10 000 msg/s
 *    and at the maximum rate (512 in flight);
 * 3. catch-up scan rate through the scanner (a fresh opener: nothing cached, all from LevelDB);
 * 4. the ceiling in the same run: raw LevelDB writing the same bytes packed like record blocks.
 * Prints a table and writes `bench/results/wal.json`. Bounded run time (< 90 s).
 *
 * Run: `npx tsx bench/wal.ts [--no-sync] [--seconds N]`
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { levelBinding, LevelWalBackendOpener, type Wal, type WalBackendOpener, WalOpener } from '../node/wal/index.js';
import {
  deliverAll,
  deliverLatest,
  LocalTsoAllocator,
  MessageType,
  type MutableMessage,
  newUserMessage,
  pchannelInfo,
  vchannelName,
} from '../shared/index.js';
import { round, summarize, type LatencySummary } from './lib/percentiles.js';
import { rawLevelBaseline, type RawLevelResult } from './lib/raw-level.js';

const args = process.argv.slice(2);
const SYNC = !args.includes('--no-sync');
const secondsArg = args.indexOf('--seconds');
const APPEND_SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 2;
/** Each concurrency level runs this many times, interleaved with the others; the table shows the median. */
const APPEND_ROUNDS = 3;
const PAYLOAD_BYTES = 1024;
const CONCURRENCY = [1, 64, 512, 2048] as const;
const PACED_RATE = 10_000;
const LATENCY_SECONDS = 3;
const WARM_UP_SECONDS = 1;
const MAX_RATE_CONCURRENCY = 512;
const CATCHUP_LIMIT_MS = 8_000;
const PCHANNEL = 'bench-rootcoord-dml_0';
const VCHANNEL = vchannelName(PCHANNEL, 1, 0);

const tso = new LocalTsoAllocator();
/** Tags the messages of each latency run (property `run`). */
let tailRuns = 0;

/** Distinct 1 KiB inserts on one vchannel (messages are immutable: reused freely). */
function messagePool(size: number): MutableMessage[] {
  return Array.from({ length: size }, () => newUserMessage({ type: MessageType.Insert, vchannel: VCHANNEL, payload: randomBytes(PAYLOAD_BYTES) }));
}

async function openWal(backendOpener: WalBackendOpener, term: bigint): Promise<Wal> {
  const opener = new WalOpener({ backendOpener, tso, config: { retentionMaxAgeMs: 0 } });
  return opener.open(pchannelInfo(PCHANNEL, term), { signal: new AbortController().signal });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Closed loop: `concurrency` workers append back to back for `seconds`. */
async function appendThroughput(wal: Wal, concurrency: number, seconds: number, pool: MutableMessage[]): Promise<{ rate: number; cpuMicrosPerMessage: number }> {
  const deadline = performance.now() + seconds * 1000;
  const cpu = process.cpuUsage();
  let count = 0;
  const worker = async (w: number): Promise<void> => {
    for (let i = w; performance.now() < deadline; i += concurrency) {
      await wal.append(pool[i % pool.length] as MutableMessage);
      count++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const used = process.cpuUsage(cpu);
  return { rate: round(count / ((performance.now() - start) / 1000)), cpuMicrosPerMessage: round((used.user + used.system) / count, 2) };
}

/**
 * Append → tailing scanner latency. `rate` paces an open loop (appends issued on schedule, not
 * awaited); `undefined` runs a closed loop at `MAX_RATE_CONCURRENCY` in flight. Each message
 * carries its sequence number; the scanner looks up when it was appended.
 */
async function tailLatency(wal: Wal, rate: number | undefined, seconds: number): Promise<LatencySummary & { achievedRate: number }> {
  const sentAt: number[] = [];
  const samples: number[] = [];
  const run = String(++tailRuns);
  const scanner = wal.read({ name: 'bench-tail', vchannel: VCHANNEL, deliverPolicy: deliverLatest() });
  let received = 0;
  let sent = 0;
  let stopped = false;
  const reading = (async () => {
    for await (const m of scanner) {
      // Only this run's messages: `latest` may also deliver the message the previous phase wrote last.
      if (m.messageType !== MessageType.Insert || !('property' in m) || m.property('run') !== run) continue;
      const seq = Number(m.property('seq'));
      samples.push(performance.now() - (sentAt[seq] as number));
      if (++received === sent && stopped) break;
    }
  })();
  // Distinct payloads, as real traffic has: one payload repeated would compress to almost nothing
  // in LevelDB's tables (when compression is on) and flatter the fsyncs that flushes compete with.
  const payloads = Array.from({ length: 1024 }, () => randomBytes(PAYLOAD_BYTES));
  const send = (): Promise<unknown> => {
    const seq = sent++;
    sentAt[seq] = performance.now();
    const payload = payloads[seq % payloads.length] as Buffer;
    return wal.append(newUserMessage({ type: MessageType.Insert, vchannel: VCHANNEL, payload, properties: { run, seq: String(seq) } }));
  };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  if (rate === undefined) {
    await Promise.all(Array.from({ length: MAX_RATE_CONCURRENCY }, async () => {
      while (performance.now() < deadline) await send();
    }));
  } else {
    const inFlight = new Set<Promise<unknown>>();
    while (performance.now() < deadline) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      while (sent < due && inFlight.size < 8192) {
        const p = send().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inFlight);
  }
  const elapsed = (performance.now() - start) / 1000;
  stopped = true;
  const drainDeadline = performance.now() + 10_000;
  while (received < sent && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 5));
  await scanner.close();
  await reading.catch(() => undefined);
  return { ...summarize(Float64Array.from(samples)), achievedRate: round(sent / elapsed) };
}

/** Reads everything through a fresh opener (empty tail cache): every record comes from LevelDB. */
async function catchUp(dataRoot: string, term: bigint): Promise<{ messages: number; messagesPerSecond: number }> {
  const backendOpener = new LevelWalBackendOpener({ dataRoot, sync: SYNC });
  const wal = await openWal(backendOpener, term);
  const scanner = wal.read({ name: 'bench-catch-up', deliverPolicy: deliverAll() });
  const start = performance.now();
  const deadline = start + CATCHUP_LIMIT_MS;
  let messages = 0;
  for await (const m of scanner) {
    if (m.messageType === MessageType.Insert) messages++;
    // Only this reader's own open barrier is a persisted tick after the data; stop at the time limit.
    if (performance.now() > deadline || (m.messageType === MessageType.TimeTick && m.timeTick >= (wal.metrics().recoveryTimeTick ?? 0n))) break;
  }
  const elapsed = (performance.now() - start) / 1000;
  await scanner.close();
  await wal.close();
  await backendOpener.close();
  return { messages, messagesPerSecond: round(messages / elapsed) };
}

async function main(): Promise<void> {
  const started = performance.now();
  const dataRoot = mkdtempSync(join(tmpdir(), 'bench-wal-'));
  const pool = messagePool(1024);
  const appends: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const appendRange: Record<string, [number, number]> = {};
  const latency: Record<string, LatencySummary & { achievedRate: number }> = {};
  let catchUpResult: { messages: number; messagesPerSecond: number };
  let ceiling: RawLevelResult;
  try {
    const backendOpener = new LevelWalBackendOpener({ dataRoot, sync: SYNC });
    const wal = await openWal(backendOpener, 1n);
    // Warm-up (JIT, LevelDB's first memtable), not reported: the 1-in-flight row came first and paid for it.
    await appendThroughput(wal, 64, WARM_UP_SECONDS, pool);
    // Rounds interleave the levels, so a minute of noise on this shared machine hits all of them.
    const rounds: Record<number, { rate: number; cpuMicrosPerMessage: number }[]> = {};
    for (let round = 0; round < APPEND_ROUNDS; round++) {
      for (const c of CONCURRENCY) (rounds[c] ??= []).push(await appendThroughput(wal, c, APPEND_SECONDS, pool));
    }
    for (const c of CONCURRENCY) {
      const runs = rounds[c] ?? [];
      appends[c] = median(runs.map((r) => r.rate));
      cpu[c] = median(runs.map((r) => r.cpuMicrosPerMessage));
      appendRange[c] = [Math.min(...runs.map((r) => r.rate)), Math.max(...runs.map((r) => r.rate))];
    }
    latency[String(PACED_RATE)] = await tailLatency(wal, PACED_RATE, LATENCY_SECONDS);
    latency['max'] = await tailLatency(wal, undefined, LATENCY_SECONDS);
    await wal.close();
    await backendOpener.close();
    catchUpResult = await catchUp(dataRoot, 2n);
    ceiling = await rawLevelBaseline(join(dataRoot, 'raw-packed'), { seconds: 3, sync: SYNC, payloadBytes: PAYLOAD_BYTES, packed: true });
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
  const result = {
    benchmark: 'wal',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadAverage1m: round(loadavg()[0] ?? 0, 1),
    levelBinding: levelBinding(),
    sync: SYNC,
    payloadBytes: PAYLOAD_BYTES,
    elapsedSeconds: round((performance.now() - started) / 1000, 1),
    appendRounds: APPEND_ROUNDS,
    appendsPerSecond: appends,
    appendsPerSecondRange: appendRange,
    appendCpuMicrosPerMessage: cpu,
    tailLatencyMs: latency,
    catchUp: catchUpResult,
    rawLevelPacked: ceiling,
  };
  const rows: [string, string][] = [
    ...CONCURRENCY.map((c): [string, string] => [
      `appends/s, ${c} in flight`,
      `${appends[c]} (${cpu[c]} µs CPU/msg; ${APPEND_ROUNDS} runs ${appendRange[c]?.join('–')})`,
    ]),
    ...Object.entries(latency).map(([k, l]): [string, string] => [
      `append→scanner ms @ ${k === 'max' ? `max (${MAX_RATE_CONCURRENCY} in flight)` : `${k}/s`}`,
      `p50 ${l.p50}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}  (${l.achievedRate} msg/s)`,
    ]),
    ['catch-up scan msg/s', `${catchUpResult.messagesPerSecond} (${catchUpResult.messages} msgs)`],
    ['ceiling: raw LevelDB, same bytes, msg/s', `${ceiling.appendsPerSecond} (${ceiling.cpuMicrosPerMessage} µs CPU/msg, no JS per message)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const crc = `${result.levelBinding.crc32c} CRC32C`;
  process.stdout.write(`WAL benchmark (LevelDB ${result.levelBinding.kind} build, ${crc}, sync=${SYNC}, ${PAYLOAD_BYTES} B payloads, load ${result.loadAverage1m})\n`);
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'wal.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${out} in ${result.elapsedSeconds} s\n`);
}

await main();
