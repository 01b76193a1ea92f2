// The rooms of the house have one-way doors: no module may reach itself through its imports
// (type-only imports count too: a type cycle is a layering mistake waiting to become a run-time
// one). This walks the source import graph of agent/, electron/ and renderer/ with a small parser
// of import/export/require lines and names every cycle it finds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../harness/cluster';

const SOURCE_DIRS = ['agent', 'electron', 'renderer'];
const EXTENSIONS = ['.ts', '.tsx'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (EXTENSIONS.some((e) => name.endsWith(e)) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

// `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')`, `require('x')`.
const SPECIFIER_RE =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The relative module specifiers a source file imports (comments stripped first). */
export function importedSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  for (const m of code.matchAll(SPECIFIER_RE)) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs.filter((s) => s.startsWith('.'));
}

function resolveModule(fromFile: string, spec: string): string | null {
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [
    base,
    ...EXTENSIONS.map((e) => base + e),
    ...EXTENSIONS.map((e) => join(base, 'index' + e)),
  ])
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

/** Every elementary cycle found by a depth-first walk, each named once (from its first module in sort order). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join(' → '), rotated);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

test('the parser sees every form of import, and the walk finds a cycle it is given', () => {
  const src = [
    "import { a } from './a';",
    "import type { B } from '../b';",
    "export * from './c';",
    "import './d';",
    "const e = await import('./e');",
    "const f = require('./f');",
    "import {\n  g,\n  h,\n} from './gh';",
    "import { readFileSync } from 'node:fs';",
    "// import { x } from './commented-out';",
  ].join('\n');
  assert.deepEqual(importedSpecifiers(src), ['./a', '../b', './c', './d', './e', './f', './gh']);
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(findCycles(graph), [['a', 'b', 'c']]);
});

test('agent/, electron/ and renderer/ have no import cycles', () => {
  const graph = new Map<string, string[]>();
  for (const dir of SOURCE_DIRS)
    for (const file of sourceFiles(join(ROOT, dir))) {
      const deps = importedSpecifiers(readFileSync(file, 'utf8'))
        .map((spec) => resolveModule(file, spec))
        .filter((f): f is string => f !== null);
      graph.set(
        relative(ROOT, file),
        deps.map((f) => relative(ROOT, f)),
      );
    }
  assert.ok(graph.size > 50, `the walk found only ${graph.size} modules: is ROOT right?`);
  const cycles = findCycles(graph).map((c) => [...c, c[0]].join(' → '));
  assert.deepEqual(cycles, [], `import cycles:\n  ${cycles.join('\n  ')}`);
});
