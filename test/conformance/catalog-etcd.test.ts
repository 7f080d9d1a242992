/**
 * MetaCatalog on a real etcd (one child process per file, a fresh client and meta root per
 * test): the catalog conformance suite, plus a save that rides out an etcd SIGKILL + restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdMetaKV } from '../../shared/meta/index.js';
import { Deferred, waitFor } from '../../shared/util/index.js';
import { MetaCatalog, PChannelMetaState } from '../../coord/catalog/index.js';
import { startEtcd, type EtcdProcess } from '../harness/etcd.js';
import { uniqueName } from '../harness/unique.js';
import { InstrumentedMetaKV } from './catalog-kv-wrappers.js';
import { byName, names, samplePChannel } from './catalog-fixtures.js';
import { within } from './meta-kv-fixture.js';
import { describeCatalog } from './catalog.suite.js';

let etcd: EtcdProcess | undefined;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.close();
});

function endpoint(): string {
  if (etcd === undefined) throw new Error('etcd did not start');
  return etcd.endpoint;
}

describeCatalog('EtcdMetaKV', {
  async create() {
    return { kv: new EtcdMetaKV({ endpoints: [endpoint()], requestTimeoutMs: 3_000 }), root: `t/${uniqueName('catalog')}/meta` };
  },
  async destroy({ kv, root }) {
    // The etcd is shared by the file: leave nothing behind.
    await kv.deletePrefix(`${root}/`).catch(() => undefined);
    await kv.close();
  },
});

describe('MetaCatalog on EtcdMetaKV under etcd failures', () => {
  it('a save completes after etcd is SIGKILLed in the middle of it and restarted', async () => {
    const client = new EtcdMetaKV({ endpoints: [endpoint()], requestTimeoutMs: 1_000 });
    try {
      const kv = new InstrumentedMetaKV(client);
      const catalog = new MetaCatalog(kv, { rootPath: `t/${uniqueName('restart')}/meta` });
      const metas = names('kill', 300).map((n, i) => samplePChannel(n, PChannelMetaState.ASSIGNING, BigInt(i)));
      // Hold the second batch until etcd is dead, so the save is cut in the middle.
      const gate = new Deferred<void>();
      kv.setGate((index) => (index === 1 ? gate.promise : undefined));
      const saving = catalog.savePChannels(metas);
      await waitFor(() => kv.txns.length === 2, { message: 'second batch at the gate' });
      expect(kv.txns[0]?.outcome).toBe('ok');

      await etcd!.kill('SIGKILL');
      gate.resolve();
      await waitFor(() => kv.txns.filter((t) => t.outcome === 'error').length >= 2, {
        timeoutMs: 10_000,
        message: 'failed attempts while etcd is down',
      });
      await etcd!.restart();
      await within(saving, 20_000, 'the save after the restart');

      const outcomes = kv.txns.map((t) => t.outcome);
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(3);
      expect(outcomes.slice(1, -2).every((o) => o === 'error')).toBe(true);
      expect(await catalog.listPChannels()).toEqual(byName(metas, (m) => m.channel.name));
      await client.deletePrefix(catalog.keys.root + '/');
    } finally {
      await client.close();
    }
  });
});
