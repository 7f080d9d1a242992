/**
 * Raw LevelDB baselines for the WAL benchmarks: what classic-level alone does on this machine
 * right now, with no JavaScript per message.
 */
import { randomBytes } from 'node:crypto';
import { Level } from 'level';
import { round } from './percentiles.js';

/** Options of {@link rawLevelBaseline}. */
export interface RawLevelOptions {
  readonly seconds: number;
  readonly sync: boolean;
  readonly payloadBytes: number;
  /** One value per {@link RAW_MESSAGES_PER_BLOCK} messages (the record-block layout) instead of one per message. */
  readonly packed: boolean;
}

/** Writes per second (in messages), CPU per message over all threads, and the scan rate. */
export interface RawLevelResult {
  readonly appendsPerSecond: number;
  readonly cpuMicrosPerMessage: number;
  readonly scanPerSecond: number;
}

/** Messages per raw baseline batch, and per value when packed (about the 64 KiB block target). */
const RAW_BATCH_MESSAGES = 1024;
export const RAW_MESSAGES_PER_BLOCK = 56;

/**
 * The ceiling this machine gives right now: raw classic-level chained batches of 1024 messages
 * (payload + 150 bytes of properties each, sync as configured), then a raw `nextv` scan of them.
 * Benchmarks measure it in the same run, because on a shared machine the absolute numbers move a
 * lot. `packed`: the same bytes in values of {@link RAW_MESSAGES_PER_BLOCK} messages each (about
 * one record block), what the WAL writes but with no JavaScript per message: the ceiling of the
 * storage layout itself.
 */
export async function rawLevelBaseline(location: string, options: RawLevelOptions): Promise<RawLevelResult> {
  const { seconds, sync, payloadBytes, packed } = options;
  const db = new Level<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 16 * 1024 * 1024, compression: false });
  await db.open();
  const perValue = packed ? RAW_MESSAGES_PER_BLOCK : 1;
  const value = randomBytes((payloadBytes + 150) * perValue);
  let offset = 0n;
  const cpu = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const batch = db.batch();
    for (let i = 0; i < RAW_BATCH_MESSAGES; i += perValue) {
      const key = Buffer.allocUnsafe(9);
      key[0] = 0x72;
      offset += BigInt(perValue);
      key.writeBigUInt64BE(offset, 1);
      batch.put(key, value);
    }
    await batch.write({ sync });
  }
  const appendsPerSecond = Number(offset) / ((performance.now() - start) / 1000);
  const used = process.cpuUsage(cpu);
  const cpuMicrosPerMessage = round((used.user + used.system) / Number(offset), 2);
  const scanStart = performance.now();
  const iterator = db.iterator({ highWaterMarkBytes: 4 * 1024 * 1024 });
  let scanned = 0;
  for (let entries = await iterator.nextv(1000); entries.length > 0; entries = await iterator.nextv(1000)) scanned += entries.length * perValue;
  await iterator.close();
  const scanPerSecond = scanned / ((performance.now() - scanStart) / 1000);
  await db.close();
  return { appendsPerSecond: round(appendsPerSecond), cpuMicrosPerMessage, scanPerSecond: round(scanPerSecond) };
}
