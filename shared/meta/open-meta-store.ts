/**
 * Which meta store a process uses, and opening it: the cluster's etcd, an embedded LevelDB store in
 * a directory (a process run without etcd), or a store the caller owns (standalone mode shares one
 * between its coordinator and node; the process does not close it).
 */
import { mkdirSync } from 'node:fs';
import { EtcdMetaKV } from './etcd-meta-kv.js';
import { LevelMetaKV } from './level-meta-kv.js';
import type { MetaKV } from './meta-kv.js';

export type MetaStoreSpec =
  | { readonly kind: 'etcd' }
  | { readonly kind: 'embedded'; readonly dir: string }
  | { readonly kind: 'injected'; readonly kv: MetaKV };

/** An open meta store and whether its opener owns (closes) it. */
export interface OpenedMetaStore {
  readonly kv: MetaKV;
  readonly owned: boolean;
}

/** Opens the store of `spec`; `etcd` is the `etcd` config slice, used for the etcd kind. */
export async function openMetaStore(
  spec: MetaStoreSpec,
  etcd: { readonly endpoints: readonly string[]; readonly requestTimeoutMs: number },
): Promise<OpenedMetaStore> {
  switch (spec.kind) {
    case 'injected':
      return { kv: spec.kv, owned: false };
    case 'embedded':
      mkdirSync(spec.dir, { recursive: true });
      return { kv: await LevelMetaKV.open(spec.dir), owned: true };
    case 'etcd':
      return { kv: new EtcdMetaKV({ endpoints: etcd.endpoints, requestTimeoutMs: etcd.requestTimeoutMs }), owned: true };
  }
}
