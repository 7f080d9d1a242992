/**
 * Coordinator restart: rebuilds the channel manager's state from the catalog (Milvus
 * `RecoverChannelManager`, reference `milvus-coord.md` §2.6). No streaming node is contacted here;
 * the first balance round repairs ASSIGNING/UNAVAILABLE channels through term-ordered Remove/Assign.
 */
import { StreamingError } from '../../shared/index.js';
import type { Logger } from '../../shared/index.js';
import type { Catalog, PChannelMeta } from '../catalog/index.js';
import { newPChannelMeta } from './pchannel-meta.js';

/**
 * Proto `StreamingVersion.version` 1: "streaming WAL enabled" (Milvus 2.6.0). Our port has no
 * pre-streaming peers, so Milvus's upgrade gate (§3.7) passes at once, as on a fresh Milvus cluster.
 */
export const STREAMING_VERSION_ENABLED = 1n;

/** What recovery found or created. */
export interface RecoveredChannels {
  readonly streamingVersion: bigint;
  readonly cchannel: string;
  /** Persisted metas as they are, plus a new UNINITIALIZED meta per configured name not persisted yet. */
  readonly channels: readonly PChannelMeta[];
}

/** Inputs of {@link recoverChannels}. */
export interface RecoverChannelsOptions {
  /** Configured pchannels; index 0 becomes the control channel's pchannel if none is persisted yet. */
  readonly pchannelNames: readonly string[];
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/**
 * Reads version, control channel and pchannel metas (in Milvus's order), persisting the version and
 * the control channel when absent. New pchannels stay in memory only until their first assignment
 * persists them, as in Milvus.
 *
 * @throws whatever the catalog throws (a corrupt value stops recovery); INVAILD_ARGUMENT when no
 *   control channel is persisted and no pchannel is configured.
 */
export async function recoverChannels(catalog: Catalog, options: RecoverChannelsOptions): Promise<RecoveredChannels> {
  const { logger, signal } = options;
  const saveOptions = signal === undefined ? {} : { signal };

  let streamingVersion = await catalog.getVersion();
  if (streamingVersion === undefined) {
    // Saved before any meta is created: Milvus makes new metas read-write only once a version exists.
    await catalog.saveVersion(STREAMING_VERSION_ENABLED, saveOptions);
    streamingVersion = STREAMING_VERSION_ENABLED;
    logger.info({ streamingVersion }, 'streaming version persisted');
  }

  let cchannel = await catalog.getCChannel();
  if (cchannel === undefined) {
    const first = options.pchannelNames[0];
    if (first === undefined) {
      throw StreamingError.invalidArgument('pchannelNames', 'no pchannel configured and no control channel persisted');
    }
    await catalog.saveCChannel(first, saveOptions);
    cchannel = first;
    logger.info({ cchannel }, 'control channel chosen and persisted');
  }

  const persisted = await catalog.listPChannels();
  const byName = new Map(persisted.map((m) => [m.channel.name, m] as const));
  let created = 0;
  for (const name of options.pchannelNames) {
    if (byName.has(name)) continue;
    byName.set(name, newPChannelMeta(name, 'rw'));
    created++;
  }
  if (!byName.has(cchannel)) {
    // Possible only if the configured pchannels shrank; the control channel never moves once saved.
    logger.warn({ cchannel }, 'persisted control channel is not a known pchannel');
  }
  logger.info({ persisted: persisted.length, created, cchannel }, 'channel manager recovered');
  return { streamingVersion, cchannel, channels: [...byName.values()] };
}
