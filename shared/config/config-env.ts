/**
 * The environment-variable form of config keys, and the parsing of text values (environment
 * variables and CLI flags are text; a JSON file is already typed).
 *
 * Mapping rule: `STREAMING_` followed by the key path, each segment converted from camelCase to
 * UPPER_SNAKE_CASE, segments joined by `_`:
 *
 * | key | variable |
 * |---|---|
 * | `etcd.endpoints` | `STREAMING_ETCD_ENDPOINTS` (comma-separated: `a:2379,b:2379`) |
 * | `session.ttlMs` | `STREAMING_SESSION_TTL_MS` |
 * | `node.port` | `STREAMING_NODE_PORT` |
 * | `wal.retention.maxAgeMs` | `STREAMING_WAL_RETENTION_MAX_AGE_MS` |
 * | `log.level` | `STREAMING_LOG_LEVEL` |
 *
 * Values: numbers in decimal, booleans as `true|false|1|0|yes|no` (any case), lists comma-
 * separated (blank items dropped). Variables with the prefix that name no key are ignored, so
 * the prefix can be shared with other tools.
 */
import { StreamingError } from '../errors/index.js';

/** Prefix of every config environment variable. */
export const CONFIG_ENV_PREFIX = 'STREAMING_';

/** The environment variable of a dotted key path, e.g. `session.ttlMs` → `STREAMING_SESSION_TTL_MS`. */
export function configEnvName(path: string): string {
  const segments = path.split('.').map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());
  return CONFIG_ENV_PREFIX + segments.join('_');
}

/** The type of a leaf, taken from its default value. */
export type LeafKind = 'string' | 'number' | 'boolean' | 'string[]';

/** Classifies a default value; `undefined` for a nested slice (a plain object). */
export function leafKindOf(value: unknown): LeafKind | undefined {
  if (Array.isArray(value)) return 'string[]';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return undefined;
  }
}

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/**
 * Parses the text form of a leaf. Throws INVAILD_ARGUMENT naming `path` and `source` when the
 * text does not fit the kind.
 */
export function parseConfigText(kind: LeafKind, text: string, path: string, source: string): string | number | boolean | string[] {
  switch (kind) {
    case 'string':
      return text;
    case 'string[]':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'number': {
      const trimmed = text.trim();
      const value = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(value)) {
        throw StreamingError.invalidArgument(path, `expected a number, got ${JSON.stringify(text)} (from ${source})`);
      }
      return value;
    }
    case 'boolean': {
      const word = text.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw StreamingError.invalidArgument(path, `expected true or false, got ${JSON.stringify(text)} (from ${source})`);
    }
  }
}
