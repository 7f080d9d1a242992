import { describe, expect, it } from 'vitest';
import { configEnvName } from '../../../../shared/config/index.js';

describe('configEnvName', () => {
  it('maps key paths to STREAMING_ UPPER_SNAKE names', () => {
    expect(configEnvName('etcd.endpoints')).toBe('STREAMING_ETCD_ENDPOINTS');
    expect(configEnvName('session.ttlMs')).toBe('STREAMING_SESSION_TTL_MS');
    expect(configEnvName('session.keepaliveIntervalMs')).toBe('STREAMING_SESSION_KEEPALIVE_INTERVAL_MS');
    expect(configEnvName('wal.retention.maxAgeMs')).toBe('STREAMING_WAL_RETENTION_MAX_AGE_MS');
    expect(configEnvName('log.level')).toBe('STREAMING_LOG_LEVEL');
  });
});
