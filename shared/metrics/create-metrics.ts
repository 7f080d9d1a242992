/**
 * Every metric of the service is defined here, in one place (STYLE §7), and registered on the
 * `Registry` the composition root passes in, never on prom-client's global registry: two servers
 * in one test process then keep separate numbers.
 *
 * Names follow Milvus (`milvus_<subsystem>_<name>`, Milvus's `pkg/metrics`), with durations in
 * seconds as Prometheus recommends.
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';

/** Name prefix of every metric. */
export const METRICS_NAMESPACE = 'milvus';

/** Latency buckets (seconds) for metadata calls: an etcd round trip is ~1 ms, a slow fsync 100 ms+. */
export const META_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]);

/** The states a session gauge reports; exactly one of them is 1 for a role at a time. */
export const SESSION_STATES = ['alive', 'stopping', 'lost', 'closed'] as const;
/** One of {@link SESSION_STATES}. */
export type SessionMetricState = (typeof SESSION_STATES)[number];

/** Outcome label of an operation. */
export type OpStatus = 'ok' | 'error';

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /** Also collect Node process metrics (CPU, memory, event loop lag) into the registry. Default false. */
  readonly defaultMetrics?: boolean;
}

/** The typed metric set; components take the members they update. */
export interface Metrics {
  readonly registry: Registry;
  /** `milvus_meta_op_duration_seconds{meta_op_type, status}`: MetaKV / catalog call latency. */
  readonly metaOpDuration: Histogram<'meta_op_type' | 'status'>;
  /** `milvus_meta_op_count{meta_op_type, status}`: MetaKV / catalog calls. */
  readonly metaOpCount: Counter<'meta_op_type' | 'status'>;
  /** `milvus_streaming_session_state{role, state}`: 1 for the current state, 0 for the others. */
  readonly sessionState: Gauge<'role' | 'state'>;
  /** `milvus_streaming_process_info{service, version, node_id}`: always 1; labels identify the process. */
  readonly processInfo: Gauge<'service' | 'version' | 'node_id'>;
  /** Sets the session state of `role`, zeroing the other states. */
  setSessionState(role: string, state: SessionMetricState): void;
  /** Times `fn` into `metaOpDuration` and `metaOpCount` under `op`, with status from its outcome. */
  observeMetaOp<T>(op: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * Defines the metrics on `registry`. Call once per registry (prom-client rejects a second
 * registration of the same name).
 *
 * @example
 * ```ts
 * const metrics = createMetrics(new Registry(), { defaultMetrics: true });
 * metrics.processInfo.set({ service: 'node', version: '0.1.0', node_id: '3' }, 1);
 * const text = await metrics.registry.metrics();
 * ```
 */
export function createMetrics(registry: Registry, options: CreateMetricsOptions = {}): Metrics {
  const registers = [registry];
  const metaOpDuration = new Histogram({
    name: `${METRICS_NAMESPACE}_meta_op_duration_seconds`,
    help: 'Latency of metadata store operations, in seconds.',
    labelNames: ['meta_op_type', 'status'] as const,
    buckets: [...META_DURATION_BUCKETS],
    registers,
  });
  const metaOpCount = new Counter({
    name: `${METRICS_NAMESPACE}_meta_op_count`,
    help: 'Number of metadata store operations.',
    labelNames: ['meta_op_type', 'status'] as const,
    registers,
  });
  const sessionState = new Gauge({
    name: `${METRICS_NAMESPACE}_streaming_session_state`,
    help: 'Session state of the process per role: 1 for the current state, 0 otherwise.',
    labelNames: ['role', 'state'] as const,
    registers,
  });
  const processInfo = new Gauge({
    name: `${METRICS_NAMESPACE}_streaming_process_info`,
    help: 'Always 1; the labels identify the streaming service process.',
    labelNames: ['service', 'version', 'node_id'] as const,
    registers,
  });
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    metaOpDuration,
    metaOpCount,
    sessionState,
    processInfo,
    setSessionState(role, state) {
      for (const s of SESSION_STATES) sessionState.set({ role, state: s }, s === state ? 1 : 0);
    },
    async observeMetaOp(op, fn) {
      const stop = metaOpDuration.startTimer({ meta_op_type: op });
      let status: OpStatus = 'error';
      try {
        const result = await fn();
        status = 'ok';
        return result;
      } finally {
        stop({ status });
        metaOpCount.inc({ meta_op_type: op, status });
      }
    },
  };
}
