import type { MetaKV } from '../meta-kv.js';
import { StreamingError } from '../../errors/index.js';
import { serverIdCounterKey } from './session-keys.js';

/**
 * Allocates a cluster-unique server id the way Milvus does: the counter key holds the next free
 * id (initialised to "1"); a CAS transaction moves it one up and the caller gets the value it read.
 * Concurrent allocators race on the compare and the loser retries, so ids never repeat.
 */
export async function allocateServerId(kv: MetaKV, rootPath: string, maxAttempts = 100): Promise<bigint> {
  const key = serverIdCounterKey(rootPath);
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const current = await kv.get(key);
    if (current === undefined) {
      // First allocator ever: take 1 and leave 2 for the next one.
      const r = await kv.txn({
        compares: [{ key, target: 'version', op: '==', value: 0 }],
        success: [{ type: 'put', key, value: '2' }],
      });
      if (r.succeeded) return 1n;
      continue;
    }
    const text = current.value.toString('utf8');
    if (!/^\d+$/.test(text)) {
      throw StreamingError.unrecoverable(`server id counter ${key} holds ${JSON.stringify(text)}, not a number`);
    }
    const id = BigInt(text);
    const r = await kv.txn({
      compares: [{ key, target: 'modRevision', op: '==', value: current.modRevision }],
      success: [{ type: 'put', key, value: String(id + 1n) }],
    });
    if (r.succeeded) return id;
  }
  throw StreamingError.inner(`could not allocate a server id from ${key} after ${maxAttempts} attempts`);
}
