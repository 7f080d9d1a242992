/**
 * `walctl standalone` as a real child process: coordinator + node in one process on an embedded
 * meta store, no etcd. Every pchannel gets assigned to the node; a SIGTERM stops it cleanly (exit
 * 0); a restart on the same data directory recovers the assignments at a higher term.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { clientConstructors, waitFor } from '../../shared/index.js';
import { useProcesses } from '../harness/procs.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'standalone-e2e-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Distribution {
  pchannels: { pchannel: string; term: string; state: string; node?: { server_id: string } | null }[];
}

function walDistribution(address: string): Promise<Distribution> {
  const client = new (clientConstructors().walAdmin)(address, credentials.createInsecure());
  return new Promise<Distribution>((ok, fail) => {
    client.GetWALDistribution({}, { deadline: Date.now() + 5_000 }, (err, res) => {
      client.close();
      if (err) fail(err);
      else ok(res as unknown as Distribution);
    });
  });
}

/** Waits until all `n` pchannels are ASSIGNED to the node with `serverId`. */
async function allAssigned(address: string, n: number, serverId: number): Promise<Distribution> {
  return waitFor(
    async () => {
      const d = await walDistribution(address);
      const done = d.pchannels.every((p) => p.state === 'PCHANNEL_META_STATE_ASSIGNED' && p.node?.server_id === String(serverId));
      return d.pchannels.length === n && done ? d : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

describe('walctl standalone', () => {
  const start = useProcesses();
  const launch = () =>
    start({
      cmd: process.execPath,
      args: ['--import', 'tsx', 'cli/main.ts', 'standalone', '--data', dataDir, '--port', '0', '--node-port', '0', '--pchannels', '4', '--log-level', 'warn'],
      cwd: ROOT,
      readyTimeoutMs: 60_000,
    });

  it('assigns every pchannel to its node, stops on SIGTERM with exit 0, and recovers at a higher term', async () => {
    const first = await launch();
    const ready = first.ready as { role: string; coordAddress: string; nodeGrpcPort: number; nodeServerId: number };
    expect(ready.role).toBe('standalone');
    expect(ready.nodeGrpcPort).toBeGreaterThan(0);
    const before = await allAssigned(ready.coordAddress, 4, ready.nodeServerId);
    first.kill('SIGTERM');
    expect((await first.waitExit()).code).toBe(0);

    const second = await launch();
    const again = second.ready as { coordAddress: string; nodeServerId: number };
    // A restarted node registers with a new server id; its channels move to it at term + 1.
    expect(again.nodeServerId).toBeGreaterThan(ready.nodeServerId);
    const after = await allAssigned(again.coordAddress, 4, again.nodeServerId);
    for (const p of after.pchannels) {
      const old = before.pchannels.find((b) => b.pchannel === p.pchannel)!;
      expect(BigInt(p.term)).toBeGreaterThan(BigInt(old.term));
    }
    second.kill('SIGTERM');
    expect((await second.waitExit()).code).toBe(0);
  }, 120_000);
});
