/**
 * `walctl node` as a real child process against a real etcd, driven with raw grpc-js calls: it
 * answers GetComponentStates and gRPC health; and what a producer saw acknowledged survives a
 * SIGKILL. The restarted node (same data root, new server id) reopens the pchannel at a higher
 * term, and a consumer of one vchannel reads every acknowledged message of it exactly once, in
 * time tick order, and nothing of the other vchannel.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clientConstructors,
  decodeUint64,
  type HealthClient,
  marshalMessageType,
  MessageType,
  MutableMessage,
  newUserMessage,
  type PChannelInfo,
  pchannelInfo,
  pchannelInfoToProto,
  PropertyKey,
  StreamingCode,
  streamingErrorFromProto,
  type StreamingNodeHandlerServiceClient,
  type StreamingNodeManagerServiceClient,
  type StreamingNodeStateServiceClient,
  vchannelName,
  waitFor,
} from '../../shared/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { useProcesses, type TestProcess } from '../harness/procs.js';
import { uniqueName } from '../harness/unique.js';
import {
  type ConsumeRequest,
  type ConsumeResponse,
  handshakeMetadata,
  Probe,
  type ProduceRequest,
  type ProduceResponse,
} from '../integration/node-handler-fixture.js';
import { unary } from '../harness/grpc-unary.js';
import { walctlProcess } from '../harness/walctl.js';

const CALL_TIMEOUT_MS = 60_000;
const PCHANNEL = 'by-dev-rootcoord-dml_0';
const V0 = vchannelName(PCHANNEL, 100n, 0);
const V1 = vchannelName(PCHANNEL, 100n, 1);
const TIME_TICK_TYPE = marshalMessageType(MessageType.TimeTick);
/** Request ids are uint64s on the wire; the bad message's is outside the good ones' range. */
const BAD_ID = '100000';

const start = useProcesses({ graceMs: 10_000 });
let etcd: EtcdProcess;
let tmp: string;
beforeAll(async () => {
  etcd = await startEtcd();
  tmp = mkdtempSync(join(tmpdir(), 'node-kill-restart-'));
});
afterAll(async () => {
  await etcd?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const clients: grpc.Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A node process on `dataRoot` under meta root `root`; waits for its ready line. */
function walctlNode(root: string, dataRoot: string): Promise<TestProcess> {
  return start(walctlProcess('node', ['--etcd', etcd.endpoint, '--root', root, '--data-root', dataRoot]));
}

/** Raw clients of one node address, closed in afterEach. */
function clientsFor(address: string) {
  const creds = grpc.credentials.createInsecure();
  const c = clientConstructors();
  const out = {
    manager: new c.streamingNodeManager(address, creds) as StreamingNodeManagerServiceClient,
    handler: new c.streamingNodeHandler(address, creds) as unknown as StreamingNodeHandlerServiceClient,
    state: new c.streamingNodeState(address, creds) as StreamingNodeStateServiceClient,
    health: new c.health(address, creds) as HealthClient,
  };
  clients.push(...Object.values(out));
  return out;
}

const deadline = () => ({ deadline: Date.now() + CALL_TIMEOUT_MS });

/** Assign resolves once the WAL of `channel` is open on the node. */
function assign(manager: StreamingNodeManagerServiceClient, channel: PChannelInfo): Promise<unknown> {
  return unary((cb) => manager.Assign({ pchannel: pchannelInfoToProto(channel) }, deadline(), cb));
}

/** The messages of consume frames (single and batched), as raw protos, in stream order. */
function consumed(frames: readonly ConsumeResponse[]) {
  const out: NonNullable<NonNullable<ConsumeResponse['consume']>['message']>[] = [];
  for (const f of frames) {
    if (f.consume?.message) out.push(f.consume.message);
    for (const m of f.consume_batch?.messages ?? []) out.push(m);
  }
  return out;
}

/** An acknowledged append. */
interface Acked {
  readonly requestId: string;
  readonly vchannel: string;
  readonly payload: string;
  readonly id: string;
  readonly timeTick: bigint;
}

describe('walctl node (process) over raw gRPC', () => {
  it('answers GetComponentStates Healthy and health Check SERVING', { timeout: 120_000 }, async () => {
    const node = await walctlNode(uniqueName('e2e-root'), join(tmp, uniqueName('data')));
    const ready = node.ready;
    expect(ready).toMatchObject({ msg: 'ready', role: 'streamingnode' });
    const { state, health } = clientsFor(String(ready['address']));
    const states = await unary((cb) => state.GetComponentStates({}, deadline(), cb));
    expect(states).toMatchObject({ state: { role: 'streamingnode', state_code: 'Healthy', nodeID: String(ready['serverId']) }, status: { code: 0 } });
    const checked = await unary((cb) => health.Check({ service: '' }, deadline(), cb));
    expect(checked).toMatchObject({ status: 'SERVING' });
  });

  it('keeps every acknowledged message across a SIGKILL and a restart on the same data root', { timeout: 240_000 }, async () => {
    const root = uniqueName('e2e-root');
    const dataRoot = join(tmp, uniqueName('data'));

    // --- first life: produce, then die without warning ---
    const first = await walctlNode(root, dataRoot);
    const firstId = BigInt(String(first.ready['serverId']));
    const a = clientsFor(String(first.ready['address']));
    const term1 = pchannelInfo(PCHANNEL, 1n);
    await assign(a.manager, term1);

    const p = new Probe<ProduceRequest, ProduceResponse>(
      a.handler.Produce(handshakeMetadata('create-producer', { pchannel: pchannelInfoToProto(term1), enable_batch: false })),
    );
    const created = await p.next(CALL_TIMEOUT_MS);
    expect(created.create?.producer_server_id).toBe(String(firstId));

    const count = 300;
    const sent = new Map<string, { vchannel: string; payload: string }>();
    const send = (i: number): void => {
      const vchannel = i % 2 === 0 ? V0 : V1;
      const payload = `payload-${i}`;
      const message = newUserMessage({ type: MessageType.Insert, vchannel, payload: Buffer.from(payload), properties: { index: String(i) } });
      sent.set(String(i), { vchannel, payload });
      p.send({ produce: { request_id: String(i), message: message.toProto() } });
    };
    for (let i = 0; i < count / 2; i++) send(i);
    // A bad message (reserved user property) in the middle: answered in-band, the stream goes on.
    const bad = MutableMessage.create(Buffer.from('bad'), { ...newUserMessage({ type: MessageType.Insert, vchannel: V0, payload: Buffer.from('x') }).properties, _mine: 'x' });
    p.send({ produce: { request_id: BAD_ID, message: bad.toProto() } });
    for (let i = count / 2; i < count; i++) send(i);

    const answers = (await p.take(count + 1, CALL_TIMEOUT_MS)).map((f) => f.produce);
    expect(answers.every((x) => x !== null && x !== undefined)).toBe(true);
    const byId = new Map(answers.map((x) => [x?.request_id, x]));
    // Every request answered exactly once, the bad one in-band with INVAILD_ARGUMENT.
    expect([...byId.keys()].sort()).toEqual([...sent.keys(), BAD_ID].sort());
    expect(byId.get(BAD_ID)?.response).toBe('error');
    expect(streamingErrorFromProto(byId.get(BAD_ID)?.error ?? {}).code).toBe(StreamingCode.INVAILD_ARGUMENT);
    const acked: Acked[] = [];
    for (const [requestId, what] of sent) {
      const answer = byId.get(requestId);
      expect(answer?.response, `request ${requestId}: ${JSON.stringify(answer?.error)}`).toBe('result');
      acked.push({ requestId, ...what, id: String(answer?.result?.id?.id), timeTick: BigInt(answer?.result?.timetick ?? '0') });
    }
    // Later messages after the bad one succeeded, and the stream is still open: one more append works.
    const late = newUserMessage({ type: MessageType.Insert, vchannel: V1, payload: Buffer.from('late'), properties: { index: 'late' } });
    p.send({ produce: { request_id: '100001', message: late.toProto() } });
    const lateAnswer = (await p.next(CALL_TIMEOUT_MS)).produce;
    expect(lateAnswer?.response).toBe('result');
    acked.push({ requestId: '100001', vchannel: V1, payload: 'late', id: String(lateAnswer?.result?.id?.id), timeTick: BigInt(lateAnswer?.result?.timetick ?? '0') });
    expect(new Set(acked.map((x) => x.id)).size).toBe(count + 1);

    first.kill('SIGKILL');
    expect(await first.waitExit(CALL_TIMEOUT_MS)).toMatchObject({ signal: 'SIGKILL' });
    await p.ended; // the producer stream fails with the process; nothing else to check on it

    // --- second life: same etcd, same data root, new server id, higher term ---
    const second = await walctlNode(root, dataRoot);
    const secondId = BigInt(String(second.ready['serverId']));
    expect(secondId).not.toBe(firstId);
    const b = clientsFor(String(second.ready['address']));
    const term2 = pchannelInfo(PCHANNEL, 2n);
    await assign(b.manager, term2);

    const c = new Probe<ConsumeRequest, ConsumeResponse>(
      b.handler.Consume(handshakeMetadata('create-consumer', { pchannel: pchannelInfoToProto(term2), max_batch_messages: 0 })),
    );
    expect((await c.next(CALL_TIMEOUT_MS)).create?.consumer_server_id).toBe(String(secondId));
    c.send({ create_vchannel_consumer: { vchannel: V0, deliver_policy: { all: {} } } });
    const vc = await c.next(CALL_TIMEOUT_MS);
    expect(vc.create_vchannel?.error ?? null).toBeNull();
    expect(vc.create_vchannel?.consumer_id).toBeTruthy();

    const wantV0 = acked.filter((x) => x.vchannel === V0);
    const v0Ids = new Set(wantV0.map((x) => x.id));
    const v1Ids = new Set(acked.filter((x) => x.vchannel === V1).map((x) => x.id));
    const maxTick = wantV0.reduce((m, x) => (x.timeTick > m ? x.timeTick : m), 0n);
    // Read until every acknowledged v0 message is there and a time tick past the last of them
    // has arrived after it (so a duplicate would have been delivered by then).
    const messages = await waitFor(
      () => {
        const all = consumed(c.received);
        const seen = new Set(all.filter((m) => v0Ids.has(String(m.id?.id))).map((m) => String(m.id?.id)));
        if (seen.size < v0Ids.size) return undefined;
        const lastOurs = all.findLastIndex((m) => v0Ids.has(String(m.id?.id)));
        const tickAfter = all.slice(lastOurs + 1).some((m) => m.properties[PropertyKey.MessageType] === TIME_TICK_TYPE && decodeUint64(m.properties[PropertyKey.TimeTick] ?? '0') > maxTick);
        return tickAfter ? all : undefined;
      },
      { timeoutMs: CALL_TIMEOUT_MS, intervalMs: 20, message: `${v0Ids.size} acknowledged vchannel-0 messages and a later time tick` },
    );

    const data = messages.filter((m) => m.properties[PropertyKey.MessageType] !== TIME_TICK_TYPE);
    // Nothing of vchannel 1, and nothing but our own inserts.
    expect(data.filter((m) => v1Ids.has(String(m.id?.id)) || m.properties[PropertyKey.VChannel] === V1)).toEqual([]);
    expect(data.filter((m) => !v0Ids.has(String(m.id?.id))).map((m) => m.properties)).toEqual([]);
    // Every acknowledged v0 message exactly once, with its payload and time tick, in time tick order.
    const ids = data.map((m) => String(m.id?.id));
    expect(ids).toHaveLength(wantV0.length);
    expect(new Set(ids).size).toBe(wantV0.length);
    const ticks = data.map((m) => decodeUint64(m.properties[PropertyKey.TimeTick] ?? ''));
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]! > ticks[i - 1]!, `tick #${i} ${ticks[i]} after ${ticks[i - 1]}`).toBe(true);
    const ackById = new Map(wantV0.map((x) => [x.id, x]));
    for (const m of data) {
      const want = ackById.get(String(m.id?.id))!;
      expect(Buffer.from(m.payload).toString()).toBe(want.payload);
      expect(m.properties['index']).toBe(want.requestId);
      expect(decodeUint64(m.properties[PropertyKey.TimeTick] ?? '')).toBe(want.timeTick);
    }
    expect(ids).toEqual([...wantV0].sort((x, y) => (x.timeTick < y.timeTick ? -1 : 1)).map((x) => x.id));

    // Close handshake: the close frame comes last and the call ends OK.
    c.send({ close: {} });
    c.end();
    const end = await c.ended;
    expect(end.code).toBe(0);
    expect(c.received.at(-1)?.response).toBe('close');
  });
});
