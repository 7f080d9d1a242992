/**
 * `loadConfig()`: defaults ← JSON file ← environment ← explicit overrides (CLI flags), then
 * validated once and deep-frozen (STYLE §6).
 */
import { readFileSync } from 'node:fs';
import { StreamingError } from '../errors/index.js';
import { deepFreeze } from '../util/index.js';
import { defaultConfig, sessionTimingsFor, type Config, type ConfigOverrides } from './config.js';
import { configEnvName, leafKindOf, parseConfigText, type LeafKind } from './config-env.js';
import { validateConfig } from './validate-config.js';

/** Sources of {@link loadConfig}, lowest precedence first. */
export interface LoadConfigOptions {
  /** JSON file with any subset of the {@link Config} tree. Unknown keys are an error. */
  readonly file?: string;
  /** Environment to read `STREAMING_*` variables from. Default `process.env`; pass `{}` to ignore it. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Highest precedence, typically from CLI flags. `undefined` leaves mean "not given"; strings
   *  for number/boolean/list keys are parsed like environment values. */
  readonly overrides?: ConfigOverrides;
}

type Tree = Record<string, unknown>;

/** Mutable state of one load: the tree being built and where each value came from. */
interface LoadState {
  readonly tree: Tree;
  readonly shape: Tree;
  readonly sources: Map<string, string>;
}

/**
 * Loads, validates and freezes the configuration. Throws a StreamingError (INVAILD_ARGUMENT)
 * whose message names the offending key path and its source, e.g.
 * `invalid session.ttlMs: must be >= 2000, got 1000 (from env STREAMING_SESSION_TTL_MS)`.
 *
 * When `session.ttlMs` is set by some source but `keepaliveIntervalMs` / `selfFenceMarginMs`
 * are not, those scale with the TTL (see `sessionTimingsFor`).
 *
 * @example
 * ```ts
 * const config = loadConfig({ file: opts.config, env: process.env, overrides: { node: { port: opts.port } } });
 * const wal = new LevelWal(config.wal, logger);
 * ```
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const state: LoadState = { tree: defaultConfig() as unknown as Tree, shape: defaultConfig() as unknown as Tree, sources: new Map() };
  if (options.file !== undefined) {
    const source = `file ${options.file}`;
    applyLayer(state, readConfigFile(options.file), '', source, false);
  }
  applyEnv(state, options.env ?? process.env);
  if (options.overrides !== undefined) applyLayer(state, options.overrides, '', 'override', true);
  deriveSessionTimings(state);
  const config = state.tree as unknown as Config;
  validateConfig(config, (path) => state.sources.get(path));
  return deepFreeze(config) as Config;
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw StreamingError.invalidArgument('config file', `cannot read ${file}: ${(error as Error).message}`, error);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw StreamingError.invalidArgument('config file', `${file} is not valid JSON: ${(error as Error).message}`, error);
  }
}

function isPlainObject(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges one partial tree into the state, checking keys and leaf types against the defaults. */
function applyLayer(state: LoadState, layer: unknown, prefix: string, source: string, textAllowed: boolean): void {
  const shape = prefix === '' ? state.shape : (getPath(state.shape, prefix) as Tree);
  if (!isPlainObject(layer)) {
    throw StreamingError.invalidArgument(prefix || 'config', `expected an object, got ${describe(layer)} (from ${source})`);
  }
  for (const [key, value] of Object.entries(layer)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (!Object.hasOwn(shape, key)) throw StreamingError.invalidArgument(path, `unknown key (from ${source})`);
    if (value === undefined) continue;
    const kind = leafKindOf(shape[key]);
    if (kind === undefined) {
      applyLayer(state, value, path, source, textAllowed);
      continue;
    }
    const parsed = textAllowed && typeof value === 'string' && kind !== 'string' ? parseConfigText(kind, value, path, source) : value;
    setLeaf(state, path, checkLeafType(kind, parsed, path, source), source);
  }
}

function checkLeafType(kind: LeafKind, value: unknown, path: string, source: string): unknown {
  const ok =
    kind === 'string[]'
      ? Array.isArray(value) && value.every((v) => typeof v === 'string')
      : kind === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : typeof value === kind;
  if (!ok) {
    const expected = kind === 'string[]' ? 'a list of strings' : `a ${kind}`;
    throw StreamingError.invalidArgument(path, `expected ${expected}, got ${describe(value)} (from ${source})`);
  }
  return Array.isArray(value) ? [...(value as string[])] : value;
}

/** Reads every known `STREAMING_*` variable; the variable list is derived from the defaults. */
function applyEnv(state: LoadState, env: Readonly<Record<string, string | undefined>>): void {
  for (const [path, kind] of leafPaths(state.shape, '')) {
    const name = configEnvName(path);
    const text = env[name];
    if (text === undefined) continue;
    const source = `env ${name}`;
    setLeaf(state, path, parseConfigText(kind, text, path, source), source);
  }
}

/** `[path, kind]` of every leaf under `tree`. */
function leafPaths(tree: Tree, prefix: string): [string, LeafKind][] {
  const out: [string, LeafKind][] = [];
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const kind = leafKindOf(value);
    if (kind === undefined) out.push(...leafPaths(value as Tree, path));
    else out.push([path, kind]);
  }
  return out;
}

function deriveSessionTimings(state: LoadState): void {
  const ttlSource = state.sources.get('session.ttlMs');
  if (ttlSource === undefined) return;
  const session = state.tree['session'] as { ttlMs: unknown };
  if (typeof session.ttlMs !== 'number') return;
  const derived = sessionTimingsFor(session.ttlMs);
  for (const key of ['keepaliveIntervalMs', 'selfFenceMarginMs'] as const) {
    const path = `session.${key}`;
    if (!state.sources.has(path)) setLeaf(state, path, derived[key], `derived from session.ttlMs (${ttlSource})`);
  }
}

function setLeaf(state: LoadState, path: string, value: unknown, source: string): void {
  const segments = path.split('.');
  const last = segments.pop() as string;
  const parent = segments.reduce<Tree>((node, seg) => node[seg] as Tree, state.tree);
  parent[last] = value;
  state.sources.set(path, source);
}

function getPath(tree: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, seg) => (node as Tree)[seg], tree);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? `string ${JSON.stringify(value)}` : `${typeof value} ${String(value)}`;
}

/** Every config key with its environment variable, for `--help` texts. */
export function configEnvVariables(): readonly { readonly path: string; readonly env: string }[] {
  return leafPaths(defaultConfig() as unknown as Tree, '').map(([path]) => ({ path, env: configEnvName(path) }));
}
