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
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const FLAGS = '-msse4.2 -DLEVELDB_PLATFORM_POSIX_SSE';
/** Written next to the built binary; `node/wal/backend/level-binding.ts` reads it. */
const STAMP_FILE = 'streaming-wal-build.json';
/** A build that takes longer than this is stopped; the prebuilt binary stays in use. */
const BUILD_TIMEOUT_MS = 15 * 60_000;
/** Enough for npm's and node-gyp's whole output (spawnSync fails the call when it is exceeded). */
const OUTPUT_LIMIT = 64 * 1024 * 1024;

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
  const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', timeout: 60_000, maxBuffer: OUTPUT_LIMIT });
  rmSync(scratch, { recursive: true, force: true });
  return r.status === 0 ? undefined : failureText(r, 3);
}

/** The last lines a failed child printed, or why it did not finish. */
function failureText(result, lines) {
  if (result.error !== undefined) return result.error.message;
  if (result.signal !== null) return `killed by ${result.signal}`;
  return (result.stderr || result.stdout || `exit ${result.status}`).trim().split('\n').slice(-lines).join(' | ');
}

/** True when `buildDir` holds a binary this script built for exactly `wanted`. */
function hasStampedBuild(buildDir, wanted) {
  try {
    if (!existsSync(join(buildDir, 'Release', 'classic_level.node'))) return false;
    const have = JSON.parse(readFileSync(join(buildDir, STAMP_FILE), 'utf8'));
    return Object.entries(wanted).every(([k, v]) => have[k] === v);
  } catch {
    return false;
  }
}

/** Makes node-gyp-build load the prebuilt binary again: no build/ directory. */
function removeBuild(buildDir) {
  try {
    rmSync(buildDir, { recursive: true, force: true });
  } catch (error) {
    say(`could not remove ${buildDir} (${error.message}); remove it by hand to use the prebuilt binary`);
  }
}

function main() {
  let dir;
  try {
    dir = classicLevelDir();
  } catch {
    say('classic-level is not installed; nothing to build');
    return;
  }
  const buildDir = join(dir, 'build');
  try {
    build(dir, buildDir);
  } catch (error) {
    // Whatever went wrong (a corrupt package.json, a full disk), the install goes on with the
    // prebuilt binary rather than with a build this script did not finish.
    removeBuild(buildDir);
    say(`keeping classic-level's prebuilt binary (software CRC32C): ${error instanceof Error ? error.message : String(error)}`);
  }
}

function build(dir, buildDir) {
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  const wanted = { classicLevel: version, napi: process.versions.napi, flags: FLAGS, crc32c: 'sse4.2' };

  const reason = whyNot();
  if (reason !== undefined) {
    // A build/ directory (ours, or an unfinished one) would win over the prebuilt binary.
    if (existsSync(buildDir)) removeBuild(buildDir);
    say(`keeping classic-level's prebuilt binary (software CRC32C): ${reason}`);
    return;
  }
  if (hasStampedBuild(buildDir, wanted)) {
    say(`classic-level ${version} already built with SSE4.2 CRC32C`);
    return;
  }

  say(`building classic-level ${version}'s LevelDB from source with SSE4.2 CRC32C (about 30-60 s)...`);
  const started = Date.now();
  const env = {
    ...process.env,
    CXXFLAGS: `${process.env.CXXFLAGS ?? ''} ${FLAGS}`.trim(),
    npm_config_build_from_source: 'true',
  };
  const built = spawnSync('npm', ['rebuild', 'classic-level', '--no-audit', '--no-fund'], {
    cwd: projectRoot, env, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS, maxBuffer: OUTPUT_LIMIT,
  });
  const failure = built.status !== 0 || built.error !== undefined ? failureText(built, 5) : smokeTest(dir);
  if (failure !== undefined) {
    removeBuild(buildDir);
    say(`build failed, keeping the prebuilt binary (software CRC32C): ${failure}`);
    return;
  }
  // Written to a temporary name first: a stamp is either whole or absent.
  const stampPath = join(buildDir, STAMP_FILE);
  writeFileSync(`${stampPath}.tmp`, `${JSON.stringify({ ...wanted, builtAt: new Date().toISOString() }, null, 2)}\n`);
  renameSync(`${stampPath}.tmp`, stampPath);
  say(`built in ${Math.round((Date.now() - started) / 1000)} s: ${join(buildDir, 'Release', 'classic_level.node')}`);
}

main();
