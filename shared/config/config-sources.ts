/**
 * Questions about where config came from, asked by the process entry points (`walctl node`,
 * `walctl coord`) after `loadConfig`.
 */
import { readFileSync } from 'node:fs';
import { configEnvName } from './config-env.js';

/**
 * True when etcd endpoints were set by a flag, the environment or the config file. The loaded
 * config always has endpoints (a default), so only the sources can tell whether the user asked
 * for etcd; without that, a process runs on its embedded meta store.
 */
export function etcdEndpointsConfigured(sources: {
  readonly flag: string | undefined;
  readonly file: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}): boolean {
  if (sources.flag !== undefined || sources.env[configEnvName('etcd.endpoints')] !== undefined) return true;
  if (sources.file === undefined) return false;
  // loadConfig already read and validated the file; this only asks whether the key is there.
  const parsed = JSON.parse(readFileSync(sources.file, 'utf8')) as { etcd?: { endpoints?: unknown } };
  return parsed.etcd?.endpoints !== undefined;
}

/** A comma-separated flag value as a list (blank items dropped). */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
