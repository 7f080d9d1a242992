import { describe, expect, it } from 'vitest';
import { createMetrics, Registry } from '../../../../shared/metrics/index.js';

describe('createMetrics', () => {
  it('registers on the given registry only, so two instances coexist', async () => {
    const a = createMetrics(new Registry());
    const b = createMetrics(new Registry());
    a.processInfo.set({ service: 'node', version: '0.1.0', node_id: '1' }, 1);
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    expect(textA).toContain('milvus_streaming_process_info{service="node",version="0.1.0",node_id="1"} 1');
    expect(textB).not.toContain('node_id="1"');
  });

  it('throws when defined twice on one registry', () => {
    const registry = new Registry();
    createMetrics(registry);
    expect(() => createMetrics(registry)).toThrow(/already been registered/);
  });

  it('setSessionState keeps exactly one state at 1 per role', async () => {
    const m = createMetrics(new Registry());
    m.setSessionState('streamingnode', 'stopping');
    m.setSessionState('streamingnode', 'alive');
    const values = (await m.sessionState.get()).values.filter((v) => v.labels['role'] === 'streamingnode');
    const on = values.filter((v) => v.value === 1).map((v) => v.labels['state']);
    expect(on).toEqual(['alive']);
    expect(values).toHaveLength(4);
  });

  it('observeMetaOp counts and times by outcome', async () => {
    const m = createMetrics(new Registry());
    await expect(m.observeMetaOp('put', async () => 'ok')).resolves.toBe('ok');
    await expect(m.observeMetaOp('put', () => Promise.reject(new Error('etcd down')))).rejects.toThrow('etcd down');
    const counts = (await m.metaOpCount.get()).values.map((v) => [v.labels['meta_op_type'], v.labels['status'], v.value]);
    expect(counts).toEqual(
      expect.arrayContaining([
        ['put', 'ok', 1],
        ['put', 'error', 1],
      ]),
    );
    const text = await m.registry.metrics();
    expect(text).toContain('milvus_meta_op_duration_seconds_count{meta_op_type="put",status="ok"} 1');
  });

  it('adds process metrics when asked', async () => {
    const m = createMetrics(new Registry(), { defaultMetrics: true });
    expect(await m.registry.metrics()).toContain('process_cpu_user_seconds_total');
  });
});
