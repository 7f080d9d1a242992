/**
 * Unique names for test resources (key prefixes, channels, etcd member names), so tests never
 * see each other's data even when they share one etcd.
 */
import { randomBytes } from 'node:crypto';

let counter = 0;

/** `base-<time36>-<counter>-<random hex>`: unique within and across processes. */
export function uniqueName(base = 'test'): string {
  counter += 1;
  return `${base}-${Date.now().toString(36)}-${counter}-${randomBytes(4).toString('hex')}`;
}

/** A unique key prefix ending in `/`, e.g. `/t/meta-kv-lz3k1-1-9f2c01ab/`. */
export function uniquePrefix(base = 'test'): string {
  return `/t/${uniqueName(base)}/`;
}
