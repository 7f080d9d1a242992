/**
 * One lease renewal on etcd: a short-lived LeaseKeepAlive stream that sends the id once and reads
 * one answer. A TTL of 0 in the answer is etcd's way of saying the lease is gone.
 */
import type { Etcd3, IRequestStream } from 'etcd3';
import { StreamingError } from '../errors/index.js';
import { mapEtcdError } from './etcd-errors.js';
import { leaseNotFound } from './meta-errors.js';

/**
 * Ends a stream we are done with. Half-closing first matters: etcd3 treats an error on a stream
 * that is still writable (our own CANCELLED included) as a host failure and closes every gRPC
 * client of that host, in-flight calls of other components included.
 */
export function closeStream(stream: IRequestStream<unknown>): void {
  try {
    stream.end();
  } finally {
    stream.cancel();
  }
}

/** Renews lease `id` once; resolves to its TTL in ms. See `MetaKV.leaseKeepAliveOnce`. */
export async function leaseKeepAliveOnce(client: Etcd3, id: string, timeoutMs: number): Promise<number> {
  let stream;
  try {
    stream = await client.leaseClient.leaseKeepAlive();
  } catch (e) {
    throw mapEtcdError(e, 'leaseKeepAlive', { lease: id });
  }
  const open = stream;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (result: number | StreamingError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      closeStream(open);
      if (typeof result === 'number') resolve(result);
      else reject(result);
    };
    const timer = setTimeout(
      () => settle(StreamingError.inner(`etcd leaseKeepAlive of lease ${id} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    open.on('data', (res) => {
      const ttlSeconds = Number(res.TTL);
      settle(ttlSeconds > 0 ? ttlSeconds * 1000 : leaseNotFound(id));
    });
    open.on('error', (e) => settle(mapEtcdError(e, 'leaseKeepAlive', { lease: id })));
    open.on('end', () => settle(StreamingError.inner(`etcd leaseKeepAlive stream ended before answering for lease ${id}`)));
    open.write({ ID: id });
  });
}
