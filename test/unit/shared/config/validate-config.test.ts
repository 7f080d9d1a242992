import { describe, expect, it } from 'vitest';
import { defaultConfig, validateConfig, type Config } from '../../../../shared/config/index.js';

describe('validateConfig', () => {
  it('accepts the defaults', () => {
    expect(() => validateConfig(defaultConfig())).not.toThrow();
  });

  it('accepts port 0 (pick a free one) everywhere', () => {
    const d = defaultConfig();
    const config: Config = { ...d, coord: { ...d.coord, port: 0 }, node: { ...d.node, port: 0 }, metrics: { ...d.metrics, port: 0 } };
    expect(() => validateConfig(config)).not.toThrow();
  });

  it('names the path and uses the given source', () => {
    const d = defaultConfig();
    const config: Config = { ...d, wal: { ...d.wal, maxMessageBytes: 0 } };
    expect(() => validateConfig(config, (p) => (p === 'wal.maxMessageBytes' ? 'test' : undefined))).toThrow(
      'invalid wal.maxMessageBytes: must be >= 1, got 0 (from test)',
    );
  });

  it('rejects an advertise address with whitespace', () => {
    const d = defaultConfig();
    expect(() => validateConfig({ ...d, node: { ...d.node, advertise: 'a b:1' } })).toThrow(/^invalid node\.advertise/);
  });
});
