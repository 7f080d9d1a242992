/**
 * Fail-over benchmark with real processes on a real etcd (the Debian `etcd-server` the tests use):
 *
 * 1. Coordinator: two `walctl coord` processes; SIGKILL the active one and time until the standby
 *    answers TSO. Bounded below by the session TTL (the standby campaigns once the dead one's
 *    lease expires).
 * 2. WAL: one coordinator and two `walctl node` processes sharing a data root (DESIGN.md §2); an
 *    append to a pchannel succeeds on its owner (both nodes registered); SIGKILL the owner and time until an append to
 *    that pchannel succeeds on the other node, at a higher term, with a larger message id (what
 *    was acknowledged before stays below it). The killed node is restarted between rounds.
 *
 * Prints a table and writes `bench/results/failover.json`.
 *
 * Run: `npx tsx bench/failover.ts [--rounds N] [--ttl-ms MS]`
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageId, MessageType, newUserMessage, pchannelInfo, vchannelName, waitFor } from '../shared/index.js';
import { startEtcd, type EtcdProcess } from '../test/harness/etcd.js';
import { startProcess, type TestProcess } from '../test/harness/procs.js';
import { walctlProcess } from '../test/harness/walctl.js';
import { allocateTimestamp, appendOnce, listNodes, type Placement, walDistribution } from './lib/cluster-clients.js';
import { round } from './lib/percentiles.js';

const args = process.argv.slice(2);
const ROUNDS = numberArg('--rounds', 3);
const TTL_MS = numberArg('--ttl-ms', 3_000);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FAILOVER_TIMEOUT_MS = TTL_MS + 30_000;
const PCHANNELS = 2;

function numberArg(name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

const processes = new Set<TestProcess>();

function walctl(kind: 'coord' | 'node', extra: readonly string[]): Promise<TestProcess> {
  return startProcess(walctlProcess(kind, extra)).then((p) => (processes.add(p), p));
}

async function killed(proc: TestProcess): Promise<void> {
  proc.kill('SIGKILL');
  await proc.waitExit();
  processes.delete(proc);
}

function summary(samples: readonly number[]): { rounds: number; minMs: number; medianMs: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    rounds: sorted.length,
    minMs: round(sorted[0] ?? NaN),
    medianMs: round(sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** SIGKILL the active coordinator; time until the standby serves TSO. */
async function coordinatorFailover(etcd: EtcdProcess): Promise<number[]> {
  const root = `bench-coord-${process.pid}`;
  const coord = () => walctl('coord', ['--etcd', etcd.endpoint, '--root', root, '--pchannels', '1', '--session-ttl-ms', String(TTL_MS)]);
  let active = await coord();
  let standby = await coord();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const before = await allocateTimestamp(String(active.ready['address']));
    const killedAt = performance.now();
    await killed(active);
    const after = await waitFor(() => allocateTimestamp(String(standby.ready['address'])).catch(() => undefined), {
      timeoutMs: FAILOVER_TIMEOUT_MS,
      intervalMs: 20,
      message: 'the standby coordinator serves TSO',
    });
    samples.push(performance.now() - killedAt);
    if (after <= before) throw new Error(`TSO went backwards across the fail-over: ${before} then ${after}`);
    active = standby;
    standby = await coord();
  }
  await Promise.all([active, standby].map(killed));
  return samples;
}

/** SIGKILL the node owning a pchannel; time until an append to it succeeds on the other node. */
async function walFailover(etcd: EtcdProcess, dataRoot: string): Promise<number[]> {
  const root = `bench-wal-${process.pid}`;
  const coord = await walctl('coord', ['--etcd', etcd.endpoint, '--root', root, '--pchannels', String(PCHANNELS), '--session-ttl-ms', String(TTL_MS)]);
  const coordAddress = String(coord.ready['address']);
  const node = () =>
    walctl('node', ['--etcd', etcd.endpoint, '--root', root, '--data-root', dataRoot, '--coord', coordAddress, '--session-ttl', String(TTL_MS)]);
  const nodes = new Map<string, TestProcess>();
  for (const n of await Promise.all([node(), node()])) nodes.set(String(n.ready['serverId']), n);

  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // The coordinator knows both live nodes, and every pchannel is assigned to one of them.
    const placements = await waitFor(
      async () => {
        const known = new Set(await listNodes(coordAddress).catch(() => []));
        if ([...nodes.keys()].some((id) => !known.has(id))) return undefined;
        const d = await walDistribution(coordAddress).catch(() => []);
        return d.length === PCHANNELS && d.every((p) => p.assigned && p.serverId !== undefined && nodes.has(p.serverId)) ? d : undefined;
      },
      { timeoutMs: FAILOVER_TIMEOUT_MS, intervalMs: 100, message: 'every pchannel assigned to a live node, both nodes known' },
    );
    const target = placements[0] as Placement;
    const victim = nodes.get(target.serverId as string) as TestProcess;
    const message = () => newUserMessage({ type: MessageType.Insert, vchannel: vchannelName(target.pchannel, 1n, 0), payload: Buffer.alloc(1024, i) });
    const acked = await appendOnce(target.address as string, pchannelInfo(target.pchannel, target.term), message());

    const killedAt = performance.now();
    await killed(victim);
    nodes.delete(target.serverId as string);
    const appended = await waitFor(
      async () => {
        const now = (await walDistribution(coordAddress).catch(() => [])).find((p) => p.pchannel === target.pchannel);
        if (now === undefined || !now.assigned || now.term <= target.term || now.serverId === target.serverId || now.address === undefined) return undefined;
        return appendOnce(now.address, pchannelInfo(now.pchannel, now.term), message()).catch(() => undefined);
      },
      { timeoutMs: FAILOVER_TIMEOUT_MS, intervalMs: 20, message: `an append to ${target.pchannel} on the surviving node` },
    );
    samples.push(performance.now() - killedAt);
    if (!MessageId.unmarshal(appended.id).gt(MessageId.unmarshal(acked.id))) {
      throw new Error(`message ids went backwards across the fail-over: ${acked.id} then ${appended.id}`);
    }
    const replacement = await node();
    nodes.set(String(replacement.ready['serverId']), replacement);
  }
  await Promise.all([coord, ...nodes.values()].map(killed));
  return samples;
}

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const dataRoot = mkdtempSync(join(tmpdir(), 'bench-failover-'));
  try {
    const coordinator = summary(await coordinatorFailover(etcd));
    const wal = summary(await walFailover(etcd, dataRoot));
    const result = {
      machine: { node: process.version, cpus: cpus().length, load: round(loadavg()[0] ?? 0, 2) },
      sessionTtlMs: TTL_MS,
      coordinatorFailover: coordinator,
      walFailover: wal,
    };
    const line = (label: string, s: typeof coordinator): string =>
      `  ${label.padEnd(46)} median ${s.medianMs} ms  min ${s.minMs}  max ${s.maxMs}  (${s.rounds} rounds)`;
    process.stdout.write(`Fail-over benchmark (real etcd and processes, session TTL ${TTL_MS} ms, load ${result.machine.load})\n`);
    process.stdout.write(`${line('coordinator: SIGKILL active → standby serves', coordinator)}\n`);
    process.stdout.write(`${line('WAL: SIGKILL owner → append on the other node', wal)}\n`);
    const out = join(ROOT, 'bench', 'results', 'failover.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await Promise.all([...processes].map(killed));
    await etcd.close();
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

await main();
