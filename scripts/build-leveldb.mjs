#!/usr/bin/env node
// Post-install step: rebuild classic-level's bundled LevelDB from source with hardware CRC32C.
//
// classic-level's prebuilt binary compiles LevelDB without LEVELDB_PLATFORM_POSIX_SSE, so every
// byte the WAL writes is checksummed in software twice (log record, then SST block): about a
// third of LevelDB's CPU on our write path. Built here with SSE4.2 the same data format costs
// ~30 % less CPU per message (see README, "Performance").
//
// Never fails the install: when the machine cannot build (not Linux x64, no SSE4.2, no
// g++/make/python3) or the build or its smoke test fails, the prebuilt binary stays in use and
// one line says why. Set WAL_LEVELDB_BUILD=prebuilt to skip the build.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const FLAGS = '-msse4.2 -DLEVELDB_PLATFORM_POSIX_SSE';
/** Written next to the built binary; `node/wal/backend/level-binding.ts` reads it. */
const STAMP_FILE = 'streaming-wal-build.json';

function say(line) {
  process.stdout.write(`build-leveldb: ${line}\n`);
}

function onPath(bin) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try { accessSync(join(dir, bin), constants.X_OK); return true; } catch { return false; }
  });
}

function classicLevelDir() {
  const fromProject = createRequire(join(projectRoot, 'package.json'));
  const fromLevel = createRequire(fromProject.resolve('level/package.json'));
  return dirname(fromLevel.resolve('classic-level/package.json'));
}

function whyNot() {
  if (process.env.WAL_LEVELDB_BUILD === 'prebuilt') return 'WAL_LEVELDB_BUILD=prebuilt';
  if (process.platform !== 'linux' || process.arch !== 'x64') return `no SSE4.2 build for ${process.platform}-${process.arch}`;
  let cpuinfo = '';
  try { cpuinfo = readFileSync('/proc/cpuinfo', 'utf8'); } catch { /* reported below */ }
  if (!/\bsse4_2\b/.test(cpuinfo)) return 'this CPU does not report sse4_2';
  const missing = ['g++', 'make', 'python3'].filter((bin) => !onPath(bin));
  if (missing.length > 0) return `${missing.join(', ')} not on PATH (install them to get the faster build)`;
  return undefined;
}

/** Loads the binding in a fresh process, writes with sync and reads back; returns the error text or undefined. */
function smokeTest(dir) {
  const scratch = mkdtempSync(join(tmpdir(), 'build-leveldb-'));
  const script = `
    const { ClassicLevel } = require(${JSON.stringify(dir)});
    const loaded = require('node-gyp-build').path(${JSON.stringify(dir)});
    if (!loaded.includes('/build/Release/')) throw new Error('loaded ' + loaded + ', not the source build');
    (async () => {
      const db = new ClassicLevel(${JSON.stringify(join(scratch, 'db'))}, { valueEncoding: 'buffer' });
      const value = Buffer.alloc(70000, 7);
      await db.batch([{ type: 'put', key: 'k', value }], { sync: true });
      const back = await db.get('k');
      if (!back.equals(value)) throw new Error('read back a different value');
      await db.close();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
  rmSync(scratch, { recursive: true, force: true });
  return r.status === 0 ? undefined : (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' | ');
}

function main() {
  let dir;
  try {
    dir = classicLevelDir();
  } catch {
    say('classic-level is not installed; nothing to build');
    return;
  }
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  const buildDir = join(dir, 'build');
  const stampPath = join(buildDir, STAMP_FILE);
  const wanted = { classicLevel: version, napi: process.versions.napi, flags: FLAGS, crc32c: 'sse4.2' };

  const reason = whyNot();
  if (reason !== undefined) {
    if (existsSync(stampPath)) rmSync(buildDir, { recursive: true, force: true });
    say(`keeping classic-level's prebuilt binary (software CRC32C): ${reason}`);
    return;
  }
  if (existsSync(stampPath) && existsSync(join(buildDir, 'Release', 'classic_level.node'))) {
    const have = JSON.parse(readFileSync(stampPath, 'utf8'));
    if (Object.entries(wanted).every(([k, v]) => have[k] === v)) {
      say(`classic-level ${version} already built with SSE4.2 CRC32C`);
      return;
    }
  }

  say(`building classic-level ${version}'s LevelDB from source with SSE4.2 CRC32C (about 30-60 s)...`);
  const started = Date.now();
  const env = {
    ...process.env,
    CXXFLAGS: `${process.env.CXXFLAGS ?? ''} ${FLAGS}`.trim(),
    npm_config_build_from_source: 'true',
  };
  const built = spawnSync('npm', ['rebuild', 'classic-level', '--no-audit', '--no-fund'], { cwd: projectRoot, env, encoding: 'utf8' });
  const failure = built.status !== 0
    ? (built.stderr || built.stdout || `exit ${built.status}`).trim().split('\n').slice(-5).join(' | ')
    : smokeTest(dir);
  if (failure !== undefined) {
    rmSync(buildDir, { recursive: true, force: true });
    say(`build failed, keeping the prebuilt binary (software CRC32C): ${failure}`);
    return;
  }
  writeFileSync(stampPath, `${JSON.stringify({ ...wanted, builtAt: new Date().toISOString() }, null, 2)}\n`);
  say(`built in ${Math.round((Date.now() - started) / 1000)} s: ${join(buildDir, 'Release', 'classic_level.node')}`);
}

main();
