/**
 * A pchannel moving between nodes when its owner dies, with real processes on a real etcd: one
 * `walctl coord` and two `walctl node`s sharing a data root (DESIGN.md §2). A producer's
 * acknowledged appends on the owner survive its SIGKILL: the coordinator assigns the pchannel to
 * the other node at a higher term, appends continue there with larger ids and time ticks, and a
 * consumer on the new owner reads every acknowledged message of its vchannel exactly once, in
 * time tick order, from both lives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clientConstructors,
  decodeUint64,
  marshalMessageType,
  MessageId,
  MessageType,
  newUserMessage,
  type PChannelInfo,
  pchannelInfo,
  pchannelInfoToProto,
  PropertyKey,
  type ProtoOutput,
  type StreamingNodeHandlerServiceClient,
  vchannelName,
  waitFor,
} from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { useProcesses, type TestProcess } from '../harness/procs.js';
import { uniqueName } from '../harness/unique.js';
import { walctlProcess } from '../harness/walctl.js';
import { type ConsumeRequest, type ConsumeResponse, handshakeMetadata, Probe, type ProduceRequest, type ProduceResponse } from '../integration/node-handler-fixture.js';
import { unary } from '../harness/grpc-unary.js';

const CALL_TIMEOUT_MS = 60_000;
const TTL_MS = 3_000;
const TIME_TICK_TYPE = marshalMessageType(MessageType.TimeTick);

const start = useProcesses({ graceMs: 10_000 });
let etcd: EtcdProcess;
let tmp: string;
beforeAll(async () => {
  etcd = await startEtcd();
  tmp = mkdtempSync(join(tmpdir(), 'cluster-failover-'));
});
afterAll(async () => {
  await etcd?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const clients: grpc.Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function walctl(kind: 'coord' | 'node', extra: readonly string[]): Promise<TestProcess> {
  return start(walctlProcess(kind, extra));
}

type Distribution = ProtoOutput<'streamingwal.v1.GetWALDistributionResponse'>['pchannels'];

function walAdmin(address: string) {
  const client = new (clientConstructors().walAdmin)(address, grpc.credentials.createInsecure());
  clients.push(client);
  return {
    distribution: () => unary<ProtoOutput<'streamingwal.v1.GetWALDistributionResponse'>>((cb) => client.GetWALDistribution({}, { deadline: Date.now() + 5_000 }, cb)).then((r) => r.pchannels),
    nodes: () => unary<ProtoOutput<'streamingwal.v1.ListNodesResponse'>>((cb) => client.ListNodes({}, { deadline: Date.now() + 5_000 }, cb)).then((r) => r.nodes.map((n) => String(n.server_id))),
  };
}

function handler(address: string): StreamingNodeHandlerServiceClient {
  const client = new (clientConstructors().streamingNodeHandler)(address, grpc.credentials.createInsecure()) as unknown as StreamingNodeHandlerServiceClient;
  clients.push(client as unknown as grpc.Client);
  return client;
}

/** An acknowledged append. */
interface Acked {
  readonly index: string;
  readonly vchannel: string;
  readonly id: string;
  readonly timeTick: bigint;
}

/** Produces `count` messages alternating between `vchannels` on one stream; every one must be acknowledged. */
async function produce(address: string, channel: PChannelInfo, vchannels: readonly string[], from: number, count: number): Promise<Acked[]> {
  const p = new Probe<ProduceRequest, ProduceResponse>(handler(address).Produce(handshakeMetadata('create-producer', { pchannel: pchannelInfoToProto(channel), enable_batch: false })));
  expect((await p.next(CALL_TIMEOUT_MS)).create).toBeTruthy();
  const sent = new Map<string, string>();
  for (let i = from; i < from + count; i++) {
    const vchannel = vchannels[i % vchannels.length] as string;
    sent.set(String(i), vchannel);
    const message = newUserMessage({ type: MessageType.Insert, vchannel, payload: Buffer.from(`payload-${i}`), properties: { index: String(i) } });
    p.send({ produce: { request_id: String(i), message: message.toProto() } });
  }
  const answers = (await p.take(count, CALL_TIMEOUT_MS)).map((f) => f.produce);
  p.send({ close: {} });
  p.end();
  return answers.map((answer) => {
    expect(answer?.response, JSON.stringify(answer?.error)).toBe('result');
    const index = String(answer?.request_id);
    return { index, vchannel: sent.get(index) as string, id: String(answer?.result?.id?.id), timeTick: BigInt(answer?.result?.timetick ?? '0') };
  });
}

/** Where the only pchannel is once it is assigned to a node in `among` (and, if given, at a term above `above`). */
async function placement(admin: ReturnType<typeof walAdmin>, among: ReadonlySet<string>, above = -1n) {
  return waitFor(
    async () => {
      const known = new Set(await admin.nodes().catch(() => []));
      if ([...among].some((id) => !known.has(id))) return undefined;
      const [p] = (await admin.distribution().catch(() => [])) as Distribution;
      if (p?.state !== 'PCHANNEL_META_STATE_ASSIGNED' || BigInt(p.term) <= above) return undefined;
      const owner = String(p.node?.server_id);
      return among.has(owner) ? { pchannel: p.pchannel, term: BigInt(p.term), owner, address: String(p.node?.address) } : undefined;
    },
    { timeoutMs: TTL_MS + 40_000, intervalMs: 50, message: 'the pchannel assigned to a live node' },
  );
}

describe('pchannel fail-over between nodes (processes)', () => {
  it('keeps every acknowledged message when the owner is SIGKILLed and the coordinator moves the pchannel', { timeout: 180_000 }, async () => {
    const root = uniqueName('e2e-failover');
    const dataRoot = join(tmp, uniqueName('data'));
    const coord = await walctl('coord', ['--etcd', etcd.endpoint, '--root', root, '--pchannels', '1', '--session-ttl-ms', String(TTL_MS)]);
    const coordAddress = String(coord.ready['address']);
    const nodeArgs = ['--etcd', etcd.endpoint, '--root', root, '--data-root', dataRoot, '--coord', coordAddress, '--session-ttl', String(TTL_MS)];
    const nodes = new Map<string, TestProcess>();
    for (const n of await Promise.all([walctl('node', nodeArgs), walctl('node', nodeArgs)])) nodes.set(String(n.ready['serverId']), n);
    const admin = walAdmin(coordAddress);

    const first = await placement(admin, new Set(nodes.keys()));
    const v0 = vchannelName(first.pchannel, 100n, 0);
    const v1 = vchannelName(first.pchannel, 100n, 1);
    const before = await produce(first.address, pchannelInfo(first.pchannel, first.term), [v0, v1], 0, 200);

    const victim = nodes.get(first.owner) as TestProcess;
    victim.kill('SIGKILL');
    expect((await victim.waitExit(CALL_TIMEOUT_MS)).signal).toBe('SIGKILL');
    nodes.delete(first.owner);

    const second = await placement(admin, new Set(nodes.keys()), first.term);
    expect(second.owner).not.toBe(first.owner);
    const after = await produce(second.address, pchannelInfo(second.pchannel, second.term), [v0, v1], 200, 100);
    // The new owner continues the same log: larger ids and time ticks than anything acknowledged before.
    const lastBefore = before.reduce((m, x) => (MessageId.unmarshal(x.id).gt(m) ? MessageId.unmarshal(x.id) : m), MessageId.MIN);
    const maxTickBefore = before.reduce((m, x) => (x.timeTick > m ? x.timeTick : m), 0n);
    for (const x of after) {
      expect(MessageId.unmarshal(x.id).gt(lastBefore)).toBe(true);
      expect(x.timeTick > maxTickBefore).toBe(true);
    }

    const acked = [...before, ...after];
    const wantV0 = acked.filter((x) => x.vchannel === v0).sort((x, y) => (x.timeTick < y.timeTick ? -1 : 1));
    const v0Ids = new Set(wantV0.map((x) => x.id));
    const maxTick = wantV0.reduce((m, x) => (x.timeTick > m ? x.timeTick : m), 0n);
    const c = new Probe<ConsumeRequest, ConsumeResponse>(
      handler(second.address).Consume(handshakeMetadata('create-consumer', { pchannel: pchannelInfoToProto(pchannelInfo(second.pchannel, second.term)), max_batch_messages: 64 })),
    );
    c.send({ create_vchannel_consumer: { vchannel: v0, deliver_policy: { all: {} } } });
    // Every acknowledged v0 message, then a time tick past the last of them (a duplicate would be in by then).
    const messages = await waitFor(
      () => {
        const all = c.received.flatMap((f) => [...(f.consume?.message ? [f.consume.message] : []), ...(f.consume_batch?.messages ?? [])]);
        const seen = new Set(all.filter((m) => v0Ids.has(String(m.id?.id))).map((m) => String(m.id?.id)));
        if (seen.size < v0Ids.size) return undefined;
        const last = all.findLastIndex((m) => v0Ids.has(String(m.id?.id)));
        const tickAfter = all.slice(last + 1).some((m) => m.properties[PropertyKey.MessageType] === TIME_TICK_TYPE && decodeUint64(m.properties[PropertyKey.TimeTick] ?? '0') > maxTick);
        return tickAfter ? all : undefined;
      },
      { timeoutMs: CALL_TIMEOUT_MS, intervalMs: 20, message: `${v0Ids.size} acknowledged vchannel-0 messages and a later time tick` },
    );
    const data = messages.filter((m) => m.properties[PropertyKey.MessageType] !== TIME_TICK_TYPE);
    expect(data.map((m) => String(m.id?.id))).toEqual(wantV0.map((x) => x.id));
    expect(data.map((m) => m.properties['index'])).toEqual(wantV0.map((x) => x.index));
    expect(data.map((m) => Buffer.from(m.payload).toString())).toEqual(wantV0.map((x) => `payload-${x.index}`));
    expect(data.every((m) => m.properties[PropertyKey.VChannel] === v0)).toBe(true);
    c.send({ close: {} });
    c.end();
    expect((await c.ended).code).toBe(0);
  });
});
