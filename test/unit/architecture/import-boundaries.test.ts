/**
 * Architecture rules of DESIGN.md §3 / STYLE.md §10 (rules 2 and 3), checked on the source tree:
 * - dependencies point one way: cli → coord | node | client → shared; nothing imports cli/;
 * - an import that leaves its folder goes through that folder's index.ts;
 * - no cycles between folders (shared/message ↔ shared/errors, coord/x ↔ coord/y, …).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const TOP = ['shared', 'node', 'coord', 'client', 'cli'] as const;
const ALLOWED: Record<string, readonly string[]> = {
  shared: ['shared'],
  node: ['node', 'shared'],
  coord: ['coord', 'shared'],
  client: ['client', 'shared'],
  cli: ['cli', 'coord', 'node', 'client', 'shared'],
};

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const full = join(dir, name);
    if (name === 'generated' || name === 'node_modules') continue;
    if (statSync(full).isDirectory()) out = out.concat(sourceFiles(full));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

interface Edge {
  from: string; // repo-relative file
  to: string; // repo-relative resolved target (.ts)
}

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((spec) => {
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    return { from: relative(ROOT, file), to: relative(ROOT, target) };
  });
}

/** `shared/message/x.ts` → `shared/message`; `node/server.ts` → `node`. */
function folderOf(path: string): string {
  const parts = path.split(sep);
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

const files = TOP.flatMap((t) => sourceFiles(join(ROOT, t)));
const edges = files.flatMap(importsOf);

describe('import boundaries', () => {
  it('finds source files to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('dependencies point one way (cli → coord|node|client → shared)', () => {
    const bad = edges.filter((e) => {
      const fromTop = e.from.split(sep)[0]!;
      const toTop = e.to.split(sep)[0]!;
      if (toTop.startsWith('..') || !(TOP as readonly string[]).includes(toTop)) return true;
      return !ALLOWED[fromTop]!.includes(toTop);
    });
    expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('imports that leave a folder go through its index.ts', () => {
    const bad = edges.filter((e) => {
      const fromFolder = folderOf(e.from);
      const toFolder = folderOf(e.to);
      if (fromFolder === toFolder || e.to.startsWith(fromFolder + sep)) return false;
      if (e.to.startsWith(join('shared', 'proto', 'generated'))) return false; // generated types, exempt
      return !e.to.endsWith(`${sep}index.ts`);
    });
    expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('has no cycles between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      const a = folderOf(e.from);
      const b = folderOf(e.to);
      if (a === b || e.to.startsWith(a + sep)) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(n)), n].join(' → '));
        return;
      }
      state.set(n, 'visiting');
      for (const m of graph.get(n) ?? []) visit(m, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of graph.keys()) visit(n, []);
    expect(cycles).toEqual([]);
  });

  it('uses no console.* outside the CLI', () => {
    const bad = files.filter(
      (f) => !relative(ROOT, f).startsWith(`cli${sep}`) && /\bconsole\.(log|error|warn|info|debug)\(/.test(readFileSync(f, 'utf8')),
    );
    expect(bad.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
