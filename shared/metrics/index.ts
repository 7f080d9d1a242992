export { createMetrics, META_DURATION_BUCKETS, METRICS_NAMESPACE, SESSION_STATES } from './create-metrics.js';
export type { CreateMetricsOptions, Metrics, OpStatus, SessionMetricState } from './create-metrics.js';
// Re-exported so composition roots create their per-instance registry without importing prom-client.
export { Registry } from 'prom-client';
