/**
 * Benchmark of WAL retention on the LevelDB backend: the full WAL paced at 10 000 appends/s of
 * 1 KiB for 10 s, once without retention and once with a size limit of 8 MiB applied every
 * 500 ms (the default is every 60 s; this is 120 times as often, so a short run sees many
 * truncations and the compactions they cause). Reports per run the append → ack latency
 * p50 / p99 / p99.9 / max, the bytes on disk at the end and the first id still readable.
 * Prints a table and writes `bench/results/wal-retention.json`.
 *
 * Run: `npx tsx bench/wal-retention.ts [--seconds N]`
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LevelWalBackendOpener, WalOpener, type WalAdaptorOptions } from '../node/wal/index.js';
import { deliverAll, LocalTsoAllocator, MessageType, newUserMessage, pchannelInfo, vchannelName } from '../shared/index.js';
import { round, summarize, type LatencySummary } from './lib/percentiles.js';

const args = process.argv.slice(2);
const secondsArg = args.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 10;
const RATE = 10_000;
const PAYLOAD_BYTES = 1024;
const MAX_BYTES = 8 * 1024 * 1024;
const PASS_INTERVAL_MS = 500;
const PCHANNEL = 'bench-rootcoord-dml_0';
const VCHANNEL = vchannelName(PCHANNEL, 1, 0);

interface RunResult {
  readonly ackLatencyMs: LatencySummary;
  readonly appended: number;
  readonly diskMiB: number;
  /** Offset of the first record still readable (1 = nothing was truncated). */
  readonly firstReadableOffset: string;
}

function directoryBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
}

async function run(retention: boolean): Promise<RunResult> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'bench-retention-'));
  const backendOpener = new LevelWalBackendOpener({ dataRoot, sync: true });
  const config: WalAdaptorOptions = retention
    ? { retentionMaxAgeMs: 0, retentionMaxBytes: MAX_BYTES, retentionIntervalMs: PASS_INTERVAL_MS, checkpointIntervalMs: 200 }
    : { retentionMaxAgeMs: 0, retentionMaxBytes: 0, checkpointIntervalMs: 200 };
  try {
    const wal = await new WalOpener({ backendOpener, tso: new LocalTsoAllocator(), config }).open(pchannelInfo(PCHANNEL, 1n), {
      signal: new AbortController().signal,
    });
    const payloads = Array.from({ length: 256 }, () => randomBytes(PAYLOAD_BYTES));
    const samples: number[] = [];
    const inFlight = new Set<Promise<unknown>>();
    const start = performance.now();
    let sent = 0;
    while (performance.now() - start < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * RATE);
      while (sent < due && inFlight.size < 8192) {
        const at = performance.now();
        const message = newUserMessage({ type: MessageType.Insert, vchannel: VCHANNEL, payload: payloads[sent % payloads.length] as Buffer });
        sent++;
        const p = wal.append(message).then(() => samples.push(performance.now() - at)).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inFlight);
    const scanner = wal.read({ name: 'bench-first', deliverPolicy: deliverAll() });
    const first = (await scanner[Symbol.asyncIterator]().next()).value?.messageId.offset;
    await scanner.close();
    await wal.close();
    await backendOpener.close();
    return {
      ackLatencyMs: summarize(Float64Array.from(samples)),
      appended: sent,
      diskMiB: round(directoryBytes(backendOpener.directoryOf(PCHANNEL)) / 1024 / 1024, 1),
      firstReadableOffset: String(first ?? 'none'),
    };
  } finally {
    await backendOpener.close();
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const off = await run(false);
  const on = await run(true);
  const result = {
    benchmark: 'wal-retention',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAverage1m: round(loadavg()[0] ?? 0, 1),
    ratePerSecond: RATE,
    seconds: SECONDS,
    payloadBytes: PAYLOAD_BYTES,
    retentionMaxBytes: MAX_BYTES,
    passIntervalMs: PASS_INTERVAL_MS,
    withoutRetention: off,
    withRetention: on,
    elapsedSeconds: round((performance.now() - started) / 1000, 1),
  };
  const row = (r: RunResult): string =>
    `ack p50 ${r.ackLatencyMs.p50}  p99 ${r.ackLatencyMs.p99}  p99.9 ${r.ackLatencyMs.p999}  max ${r.ackLatencyMs.max} ms; ` +
    `${r.diskMiB} MiB on disk; first readable offset ${r.firstReadableOffset} of ${r.appended}`;
  process.stdout.write(`WAL retention benchmark (${RATE} appends/s of ${PAYLOAD_BYTES} B for ${SECONDS} s, sync, load ${result.loadAverage1m})\n`);
  const labels = ['no retention', `size limit ${MAX_BYTES / 1024 / 1024} MiB, a pass every ${PASS_INTERVAL_MS} ms`];
  const width = Math.max(...labels.map((l) => l.length));
  process.stdout.write(`  ${labels[0]?.padEnd(width)}  ${row(off)}\n`);
  process.stdout.write(`  ${labels[1]?.padEnd(width)}  ${row(on)}\n`);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'wal-retention.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${out} in ${result.elapsedSeconds} s\n`);
}

await main();
