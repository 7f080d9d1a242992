/**
 * GetComponentStates and the standard health service follow the node's serving state:
 * Initializing → Healthy (SERVING) → Stopping (NOT_SERVING), and fenced → Initializing again.
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  HEALTH_SERVICE_NAME,
  HealthService,
  NodeHealth,
  componentStates,
  serviceNameOf,
  stateServiceHandlers,
} from '../../../../node/service/index.js';
import { serviceDefinitions } from '../../../../shared/index.js';
import { invokeUnary } from './unary-call.js';

const MANAGER = 'milvus.proto.streaming.StreamingNodeManagerService';

/** A fake server-streaming call recording what the handler wrote. */
function watchCall(service: string): EventEmitter & { request: { service: string }; written: unknown[]; ended: boolean; write(m: unknown): boolean; end(): void } {
  const call = Object.assign(new EventEmitter(), {
    request: { service },
    written: [] as unknown[],
    ended: false,
    write(message: unknown): boolean {
      call.written.push(message);
      return true;
    },
    end(): void {
      call.ended = true;
      call.emit('finish');
    },
  });
  return call;
}

describe('node state and health', () => {
  it('names services from their definitions', () => {
    expect(serviceNameOf(serviceDefinitions().streamingNodeManager)).toBe(MANAGER);
    expect(serviceNameOf(serviceDefinitions().health)).toBe(HEALTH_SERVICE_NAME);
  });

  it('GetComponentStates reports the server id, role and state code', async () => {
    const health = new NodeHealth();
    expect(componentStates(health)).toMatchObject({ state: { nodeID: '0', role: 'streamingnode', state_code: 'Initializing' }, status: { code: 0 } });
    health.setServerId(12n);
    health.setState('healthy');
    const outcome = await invokeUnary(stateServiceHandlers(health).GetComponentStates, {} as never).outcome;
    expect(outcome).toMatchObject({ ok: true, value: { state: { nodeID: '12', role: 'streamingnode', state_code: 'Healthy' } } });
    health.setState('stopping');
    health.setState('healthy'); // stopping is terminal
    expect(componentStates(health).state).toMatchObject({ state_code: 'Stopping' });
  });

  it('Check answers SERVING only while healthy and NOT_FOUND for unknown services', async () => {
    const health = new NodeHealth();
    const service = new HealthService(health, () => [MANAGER]);
    const check = (name: string) => invokeUnary(service.handlers.Check, { service: name } as never).outcome;
    expect(await check('')).toEqual({ ok: true, value: { status: 'NOT_SERVING' } });
    health.setState('healthy');
    for (const name of ['', MANAGER, HEALTH_SERVICE_NAME]) expect(await check(name)).toEqual({ ok: true, value: { status: 'SERVING' } });
    const unknown = await check('no.such.Service');
    expect(!unknown.ok && unknown.error.code).toBe(grpc.status.NOT_FOUND);
  });

  it('Watch sends the status now and on every change, and ends when the service closes', async () => {
    const health = new NodeHealth();
    const service = new HealthService(health, () => [MANAGER]);
    const watch = watchCall(MANAGER);
    const unknown = watchCall('no.such.Service');
    service.handlers.Watch(watch as never);
    service.handlers.Watch(unknown as never);
    health.setState('healthy');
    health.setState('initializing'); // fenced
    health.setState('healthy');
    health.setState('stopping');
    expect(watch.written).toEqual([
      { status: 'NOT_SERVING' },
      { status: 'SERVING' },
      { status: 'NOT_SERVING' },
      { status: 'SERVING' },
      { status: 'NOT_SERVING' },
    ]);
    expect(unknown.written).toEqual([{ status: 'SERVICE_UNKNOWN' }]);
    await service.close();
    expect([watch.ended, unknown.ended]).toEqual([true, true]);
  });

  it('a cancelled Watch stops listening', () => {
    const health = new NodeHealth();
    const service = new HealthService(health, () => []);
    const watch = watchCall('');
    service.handlers.Watch(watch as never);
    watch.emit('cancelled');
    health.setState('healthy');
    expect(watch.written).toEqual([{ status: 'NOT_SERVING' }]);
  });
});
