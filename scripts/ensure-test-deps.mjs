#!/usr/bin/env node
// Pre-step of `npm test`: the tests need a real etcd (Debian package etcd-server) and protoc
// (protobuf-compiler). Installs them when missing and running as root with apt-get; otherwise
// explains exactly what is needed and fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function onPath(bin) {
  if (bin.includes('/')) {
    try { accessSync(bin, constants.X_OK); return true; } catch { return false; }
  }
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try { accessSync(join(dir, bin), constants.X_OK); return true; } catch { return false; }
  });
}

const needs = [
  { bin: process.env.ETCD_BIN || 'etcd', pkg: 'etcd-server', why: 'a real etcd for the meta store, session and coordinator tests' },
  { bin: 'protoc', pkg: 'protobuf-compiler', why: 'the check that proto/ compiles with protoc' },
];
const missing = needs.filter((n) => !onPath(n.bin));
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = onPath('apt-get');
if (!isRoot || !hasApt) {
  process.stderr.write('The tests need these programs, which are not on PATH:\n');
  for (const m of missing) process.stderr.write(`  ${m.bin}  (Debian package ${m.pkg}): ${m.why}\n`);
  process.stderr.write(`Install them with:  sudo apt-get install -y ${missing.map((m) => m.pkg).join(' ')}\n`);
  process.stderr.write('or point ETCD_BIN at an etcd 3.4+ binary.\n');
  process.exit(1);
}

process.stderr.write(`Installing ${missing.map((m) => m.pkg).join(', ')} (needed by the tests)...\n`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
const r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing.map((m) => m.pkg)], { stdio: 'inherit', env });
if (r.status !== 0) {
  process.stderr.write('apt-get install failed; install the packages above by hand.\n');
  process.exit(1);
}
