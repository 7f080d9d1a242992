/**
 * End-to-end benchmark over gRPC: `walctl standalone` as a child process (coordinator + node,
 * embedded meta store, LevelDB WAL with sync), driven from this process with raw grpc-js calls in
 * Milvus's wire protocol, 1 KiB inserts on one vchannel of one pchannel:
 * 1. produce, one message per frame (plain Milvus protocol), 512 requests in flight;
 * 2. produce with the batching extension: frames of 100 messages, 16 frames in flight, and the
 *    latency from sending a frame to its answer;
 * 3. consume catch-up of everything written, with `consume_batch` frames of up to 1000 messages.
 * Prints a table and writes `bench/results/produce.json`.
 *
 * Run: `npx tsx bench/produce.ts [--seconds N]`
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import {
  clientConstructors,
  MessageType,
  newUserMessage,
  type PChannelInfo,
  pchannelInfo,
  pchannelInfoToProto,
  type ProtoInputOf,
  type ProtoOutput,
  type StreamingNodeHandlerServiceClient,
  vchannelName,
  waitFor,
} from '../shared/index.js';
import { handshakeMetadata } from '../test/harness/handshake-metadata.js';
import { startProcess } from '../test/harness/procs.js';
import { walctlProcess } from '../test/harness/walctl.js';
import { walDistribution } from './lib/cluster-clients.js';
import { round, summarize, type LatencySummary } from './lib/percentiles.js';

const args = process.argv.slice(2);
const secondsAt = args.indexOf('--seconds');
const SECONDS = secondsAt >= 0 ? Number(args[secondsAt + 1]) : 4;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAYLOAD_BYTES = 1024;
const SINGLE_IN_FLIGHT = 512;
const BATCH_SIZE = 100;
const BATCHES_IN_FLIGHT = 16;
const CONSUME_BATCH = 1000;

type ProduceRequest = ProtoInputOf<'milvus.proto.streaming.ProduceRequest'>;
type ProduceResponse = ProtoOutput<'milvus.proto.streaming.ProduceResponse'>;
type ConsumeRequest = ProtoInputOf<'milvus.proto.streaming.ConsumeRequest'>;
type ConsumeResponse = ProtoOutput<'milvus.proto.streaming.ConsumeResponse'>;
type MessageProto = ProtoInputOf<'milvus.proto.messages.Message'>;

/** Rejects when the call fails. */
function failures(call: NodeJS.EventEmitter): Promise<never> {
  return new Promise<never>((_, reject) => call.on('error', reject));
}

/**
 * Closed loop for `seconds`: keeps `inFlight` frames outstanding, each carrying `perFrame`
 * messages (`perFrame` 1 = plain `produce` frames). Returns messages/s and frame latencies.
 */
async function produce(
  client: StreamingNodeHandlerServiceClient,
  channel: PChannelInfo,
  pool: readonly MessageProto[],
  perFrame: number,
  inFlight: number,
  seconds: number,
): Promise<{ rate: number; latency: LatencySummary; count: number }> {
  const batched = perFrame > 1;
  const call = client.Produce(handshakeMetadata('create-producer', { pchannel: pchannelInfoToProto(channel), enable_batch: batched })) as grpc.ClientDuplexStream<ProduceRequest, ProduceResponse>;
  const failed = failures(call);
  failed.catch(() => undefined);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let nextId = 0;
  let count = 0;
  let stopping = false;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let outstanding = 0;
  const send = (): void => {
    const id = String(nextId++);
    sentAt.set(id, performance.now());
    outstanding++;
    if (!batched) {
      call.write({ produce: { request_id: id, message: pool[nextId % pool.length] as MessageProto } });
      return;
    }
    // Request ids of a frame: `<frame>:<i>` would not be int64s; use frame * perFrame + i.
    const base = Number(id) * perFrame;
    const requests = Array.from({ length: perFrame }, (_, i) => ({ request_id: String(base + i), message: pool[(base + i) % pool.length] as MessageProto }));
    call.write({ produce_batch: { requests } });
  };
  const answered = (frameId: string, messages: number, error: unknown): void => {
    if (error !== undefined && error !== null) throw new Error(`append failed: ${JSON.stringify(error)}`);
    const at = sentAt.get(frameId);
    sentAt.delete(frameId);
    if (at !== undefined) latencies.push(performance.now() - at);
    count += messages;
    outstanding--;
    if (!stopping) send();
    else if (outstanding === 0) done();
  };
  call.on('data', (frame: ProduceResponse) => {
    if (frame.produce) answered(frame.produce.request_id, 1, frame.produce.error);
    else if (frame.produce_batch) {
      const responses = frame.produce_batch.responses;
      const firstError = responses.find((r) => r.error)?.error;
      answered(String(Math.floor(Number(responses[0]?.request_id ?? 0) / perFrame)), responses.length, firstError);
    }
  });
  const start = performance.now();
  for (let i = 0; i < inFlight; i++) send();
  await Promise.race([new Promise((r) => setTimeout(r, seconds * 1000)), failed]);
  stopping = true;
  const elapsed = (performance.now() - start) / 1000;
  const countAtStop = count;
  await Promise.race([finished, failed]);
  call.end();
  return { rate: round(countAtStop / elapsed), latency: summarize(Float64Array.from(latencies)), count };
}

/** Reads every data message of `vchannel` from the start; returns messages/s. */
async function catchUp(client: StreamingNodeHandlerServiceClient, channel: PChannelInfo, vchannel: string, expected: number): Promise<number> {
  const call = client.Consume(handshakeMetadata('create-consumer', { pchannel: pchannelInfoToProto(channel), max_batch_messages: CONSUME_BATCH })) as grpc.ClientDuplexStream<ConsumeRequest, ConsumeResponse>;
  const failed = failures(call);
  failed.catch(() => undefined);
  const start = performance.now();
  let seen = 0;
  const all = new Promise<void>((resolve) => {
    const onMessage = (m: { properties?: Record<string, string> | null }): void => {
      if (m.properties?.['_t'] !== undefined && m.properties['_t'] !== TIME_TICK) seen++;
    };
    call.on('data', (frame: ConsumeResponse) => {
      if (frame.consume?.message) onMessage(frame.consume.message);
      for (const m of frame.consume_batch?.messages ?? []) onMessage(m);
      if (seen >= expected) resolve();
    });
  });
  call.write({ create_vchannel_consumer: { vchannel, deliver_policy: { all: {} } } });
  await Promise.race([all, failed]);
  const rate = seen / ((performance.now() - start) / 1000);
  call.cancel();
  call.on('error', () => undefined);
  return round(rate);
}

function cpuProfileFlags(): string[] {
  const dir = process.env['BENCH_CPU_PROF'];
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** `_t` of a TimeTick message on the wire. */
const TIME_TICK = '1';

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-produce-'));
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it exits.
  const server = await startProcess(walctlProcess('standalone', ['--data', dataDir, '--pchannels', '1'], { nodeFlags: cpuProfileFlags() }));
  const clients: grpc.Client[] = [];
  try {
    const coordAddress = String(server.ready['coordAddress']);
    const [placement] = await waitFor(
      async () => {
        const d = await walDistribution(coordAddress).catch(() => []);
        return d.length === 1 && d[0]?.assigned === true && d[0].address !== undefined ? d : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'the pchannel assigned' },
    );
    if (placement?.address === undefined) throw new Error('no placement');
    const channel = pchannelInfo(placement.pchannel, placement.term);
    const vchannel = vchannelName(placement.pchannel, 1n, 0);
    const client = new (clientConstructors().streamingNodeHandler)(placement.address, grpc.credentials.createInsecure()) as unknown as StreamingNodeHandlerServiceClient;
    clients.push(client as unknown as grpc.Client);
    const pool = Array.from({ length: 256 }, () => newUserMessage({ type: MessageType.Insert, vchannel, payload: randomBytes(PAYLOAD_BYTES) }).toProto());

    await produce(client, channel, pool, 1, 64, 0.5); // warm-up
    const single = await produce(client, channel, pool, 1, SINGLE_IN_FLIGHT, SECONDS);
    const batched = await produce(client, channel, pool, BATCH_SIZE, BATCHES_IN_FLIGHT, SECONDS);
    const written = single.count + batched.count;
    const catchUpRate = await catchUp(client, channel, vchannel, written);

    const result = {
      machine: { node: process.version, cpus: cpus().length, load: round(loadavg()[0] ?? 0, 2) },
      payloadBytes: PAYLOAD_BYTES,
      produceSingle: { inFlight: SINGLE_IN_FLIGHT, messagesPerSecond: single.rate, frameLatencyMs: single.latency },
      produceBatched: { messagesPerFrame: BATCH_SIZE, framesInFlight: BATCHES_IN_FLIGHT, messagesPerSecond: batched.rate, frameLatencyMs: batched.latency },
      consumeCatchUp: { messages: written, messagesPerSecond: catchUpRate },
    };
    const lat = (l: LatencySummary): string => `p50 ${l.p50} / p99 ${l.p99} / p99.9 ${l.p999} ms`;
    process.stdout.write(`End-to-end over gRPC (walctl standalone, LevelDB sync, ${PAYLOAD_BYTES} B payloads, load ${result.machine.load})\n`);
    process.stdout.write(`  produce, 1 msg/frame, ${SINGLE_IN_FLIGHT} in flight        ${single.rate} msg/s   (${lat(single.latency)})\n`);
    process.stdout.write(`  produce, ${BATCH_SIZE} msgs/frame, ${BATCHES_IN_FLIGHT} frames in flight  ${batched.rate} msg/s   (frame ${lat(batched.latency)})\n`);
    process.stdout.write(`  consume catch-up, batches of ${CONSUME_BATCH}            ${catchUpRate} msg/s   (${written} msgs)\n`);
    const out = join(ROOT, 'bench', 'results', 'produce.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    for (const c of clients) c.close();
    server.kill('SIGTERM');
    await server.waitExit(20_000).catch(() => server.kill('SIGKILL'));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
