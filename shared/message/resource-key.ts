import { StreamingError } from '../errors/index.js';

/** `milvus.proto.messages.ResourceDomain`, numbers as in the proto. */
export enum ResourceDomain {
  ResourceDomainUnknown = 0,
  /** @deprecated upstream */
  ResourceDomainImportJobID = 1,
  ResourceDomainCollectionName = 2,
  ResourceDomainDBName = 3,
  ResourceDomainPrivilege = 4,
  ResourceDomainCluster = 127,
}

/**
 * A lock a broadcast holds while it is in flight: `shared` is a read lock, otherwise exclusive.
 * Key strings follow Milvus: a collection is `<db>:<collection>`, a database its name, cluster
 * and privilege locks use `''`.
 */
export interface ResourceKey {
  readonly domain: ResourceDomain;
  readonly key: string;
  readonly shared: boolean;
}

/** Milvus' default database name, used when a database name is empty. */
export const DEFAULT_DB_NAME = 'default';

/** A lock on a collection by name (`<db>:<collection>`). */
export function collectionNameResourceKey(dbName: string, collectionName: string, shared = false): ResourceKey {
  return freeze(ResourceDomain.ResourceDomainCollectionName, `${dbName || DEFAULT_DB_NAME}:${collectionName}`, shared);
}

/** A lock on a database by name. */
export function dbNameResourceKey(dbName: string, shared = false): ResourceKey {
  return freeze(ResourceDomain.ResourceDomainDBName, dbName || DEFAULT_DB_NAME, shared);
}

/** The cluster-wide lock. */
export function clusterResourceKey(shared = false): ResourceKey {
  return freeze(ResourceDomain.ResourceDomainCluster, '', shared);
}

/** The (always exclusive) privilege lock. */
export function privilegeResourceKey(): ResourceKey {
  return freeze(ResourceDomain.ResourceDomainPrivilege, '', false);
}

/** Log form `Domain:key@R` (shared) or `Domain:key@X` (exclusive), as Milvus prints it. */
export function resourceKeyToString(key: ResourceKey): string {
  const domain = (ResourceDomain[key.domain] ?? `Domain${key.domain}`).replace(/^ResourceDomain/, '');
  return `${domain}:${key.key}@${key.shared ? 'R' : 'X'}`;
}

/** Identity of a key for deduplication: same domain, key and mode. */
export function resourceKeyId(key: ResourceKey): string {
  return `${key.domain}\u0000${key.key}\u0000${key.shared ? 1 : 0}`;
}

/** Removes duplicate keys, keeping first occurrences in order. */
export function dedupeResourceKeys(keys: readonly ResourceKey[]): ResourceKey[] {
  const seen = new Set<string>();
  const out: ResourceKey[] = [];
  for (const key of keys) {
    const id = resourceKeyId(key);
    if (!seen.has(id)) {
      seen.add(id);
      out.push(key);
    }
  }
  return out;
}

/** Reads a ResourceDomain from a decoded proto (enum name or number). */
export function resourceDomainFromProto(value: unknown, field: string): ResourceDomain {
  if (value === undefined || value === null) return ResourceDomain.ResourceDomainUnknown;
  if (typeof value === 'number' && typeof ResourceDomain[value] === 'string') return value as ResourceDomain;
  if (typeof value === 'string') {
    const byName = (ResourceDomain as unknown as Record<string, unknown>)[value];
    if (typeof byName === 'number') return byName as ResourceDomain;
  }
  throw StreamingError.invalidArgument(field, `unknown resource domain ${JSON.stringify(value)}`);
}

function freeze(domain: ResourceDomain, key: string, shared: boolean): ResourceKey {
  return Object.freeze({ domain, key, shared });
}
